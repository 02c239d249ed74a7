#!/usr/bin/env bash
# The chat widget end to end: a real `fanline serve` (the real model) over the sample
# creator's knowledge, Debian's Chromium headless driven by chromedriver through
# WebDriver, widget.test.mjs with node's test runner. Screenshots go to
# $FANLINE_WIDGET_SHOTS (default: widget-screenshots beside the build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver…"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if [ -z "${FANLINE_BIN:-}" ]; then
  cargo build --quiet -p fanline-cli
  FANLINE_BIN="$CARGO_TARGET_DIR/debug/fanline"
fi
(cd tests/widget && [ -d node_modules/webdriverio ] || npm install --no-audit --no-fund --loglevel=error >/dev/null)

WORK="$(mktemp -d)"
DRIVER=""
trap '[ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null; rm -rf "$WORK"' EXIT
port() { python3 "$ROOT/scripts/free_port.py"; }
export FANLINE_DATA_DIR="$WORK/data" FANLINE_CONFIG="$WORK/config.toml"
touch "$FANLINE_CONFIG"
KB="$ROOT/examples/creator-kb"
"$FANLINE_BIN" init >/dev/null
"$FANLINE_BIN" import "$KB/public" >/dev/null
export FANLINE_BIN FANLINE_HUB_PORT="$(port)" FANLINE_DRIVER_PORT="$(port)"
export FANLINE_WIDGET_SHOTS="${FANLINE_WIDGET_SHOTS:-$CARGO_TARGET_DIR/widget-screenshots}"
rm -f "$FANLINE_WIDGET_SHOTS"/*.png
chromedriver --port="$FANLINE_DRIVER_PORT" >"$WORK/chromedriver.log" 2>&1 &
DRIVER=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$FANLINE_DRIVER_PORT) 2>/dev/null && break; sleep 0.1; done
cd tests/widget
set +e
node --test widget.test.mjs
rc=$?
set -e
[ $rc = 0 ] || { echo "--- chromedriver log"; tail -n 40 "$WORK/chromedriver.log"; }
echo "screenshots: $FANLINE_WIDGET_SHOTS"
exit $rc
