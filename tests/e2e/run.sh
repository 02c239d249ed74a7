#!/usr/bin/env bash
# End-to-end tests of the real desktop app: build the UI and the app with the UI
# embedded, start tauri-driver (which drives WebKitWebDriver) under Xvfb, and run
# app.test.mjs on a fresh data directory. Screenshots go to $FANLINE_E2E_SHOTS
# (default: target/e2e-screenshots beside the build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
# The test command passes the app its test build made (with the UI embedded);
# run on its own, this builds it.
if [ -z "${FANLINE_E2E_APP:-}" ]; then
  bash scripts/build-ui.sh
  cargo build --quiet -p fanline-desktop --features custom-protocol
  FANLINE_E2E_APP="$CARGO_TARGET_DIR/debug/fanline-desktop"
fi
if [ -z "${FANLINE_BIN:-}" ]; then
  cargo build --quiet -p fanline-cli
  FANLINE_BIN="$CARGO_TARGET_DIR/debug/fanline"
fi
command -v tauri-driver >/dev/null 2>&1 || cargo install --quiet tauri-driver --version 2.1.0 --locked
(cd tests/e2e && [ -d node_modules/webdriverio ] || npm install --no-audit --no-fund --loglevel=error >/dev/null)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
port() { python3 "$ROOT/scripts/free_port.py"; }
export FANLINE_E2E_PORT="$(port)" FANLINE_E2E_NATIVE_PORT="$(port)"
export FANLINE_E2E_APP
export FANLINE_E2E_KB="$ROOT/examples/creator-kb"
export FANLINE_E2E_SHOTS="${FANLINE_E2E_SHOTS:-$CARGO_TARGET_DIR/e2e-screenshots}"
rm -f "$FANLINE_E2E_SHOTS"/*.png
export FANLINE_DATA_DIR="$WORK/data" FANLINE_CONFIG="$WORK/config.toml"
# Where the app serves fans when Settings turns it on.
HUB_PORT="$(port)"
export FANLINE_HUB__LISTEN="127.0.0.1:$HUB_PORT" FANLINE_HUB__PUBLIC_URL="http://127.0.0.1:$HUB_PORT"
touch "$FANLINE_CONFIG"
# A hub of its own (`fanline serve`, its own data directory) for the app to pair with.
SYNC_PORT="$(port)"
hub() { FANLINE_DATA_DIR="$WORK/hub" FANLINE_CONFIG="$WORK/hub.toml" "$FANLINE_BIN" "$@"; }
touch "$WORK/hub.toml"
hub init >/dev/null
hub serve --listen "127.0.0.1:$SYNC_PORT" >"$WORK/hub.log" 2>&1 &
HUB_PID=$!
trap 'kill $HUB_PID 2>/dev/null || true; wait $HUB_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 - "$SYNC_PORT" <<'PY'
import sys, time, urllib.request
for _ in range(600):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=1); break
    except Exception:
        time.sleep(0.2)
PY
export FANLINE_E2E_HUB="http://127.0.0.1:$SYNC_PORT"
export FANLINE_E2E_HUB_DATA="$WORK/hub" FANLINE_E2E_HUB_CONFIG="$WORK/hub.toml" FANLINE_BIN
export NO_AT_BRIDGE=1
xvfb-run -a -s "-screen 0 1280x900x24" bash -c '
  tauri-driver --port "$FANLINE_E2E_PORT" --native-port "$FANLINE_E2E_NATIVE_PORT" >"'"$WORK"'/driver.log" 2>&1 &
  driver=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$FANLINE_E2E_PORT) 2>/dev/null && break; sleep 0.1; done
  cd tests/e2e && node --test app.test.mjs; rc=$?
  kill $driver 2>/dev/null; wait $driver 2>/dev/null
  [ $rc = 0 ] || cat "'"$WORK"'/driver.log" >&2
  exit $rc
'
echo "screenshots: $FANLINE_E2E_SHOTS"
