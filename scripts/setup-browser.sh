#!/usr/bin/env bash
# Install what the browser test group needs on a Debian or Ubuntu machine: Chromium, Node's npm and
# axe-core (pinned in tests/browser/package-lock.json). Run it once; `python -m pytest` then runs the group.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v chromium >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends chromium nodejs npm
fi
npm ci --prefix tests/browser --no-audit --no-fund --silent
echo "Browser tests ready: Chromium at $(command -v chromium), axe-core in tests/browser/node_modules"
