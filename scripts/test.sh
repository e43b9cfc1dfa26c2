#!/usr/bin/env bash
# Install lessonpress with its test dependencies and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
python3 -m pytest "$@"
