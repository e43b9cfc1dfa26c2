#!/usr/bin/env bash
# Install lessonpress with its test dependencies, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
# The linter first: its configuration is in pyproject.toml.
python3 -m ruff check src tests bench scripts
python3 -m pytest "$@"
