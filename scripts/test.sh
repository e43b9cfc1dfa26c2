#!/usr/bin/env bash
# Install lessonpress with its test dependencies, lint, type-check, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
# The linter first: its configuration is in pyproject.toml.
python3 -m ruff check src tests bench scripts
# Then the type checker: which files and how strictly are in pyproject.toml too.
python3 -m mypy
python3 -m pytest "$@"
