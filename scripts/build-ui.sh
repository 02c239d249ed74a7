#!/usr/bin/env bash
# Build the desktop UI (ui/ → ui/dist): npm packages, a type check against the
# generated bindings, and the Vite bundle.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../ui"
command -v npm >/dev/null 2>&1 || { echo "npm is needed (apt install npm)" >&2; exit 1; }
# `npm install`, not `npm ci`: the registry here serves only Linux builds of the CLI.
[ -d node_modules/vite ] && [ node_modules -nt package.json ] || npm install --no-audit --no-fund --loglevel=error >/dev/null
npm run --silent build >/dev/null
