#!/usr/bin/env bash
# Build the installable .deb of the desktop app with the embedding model and ONNX
# Runtime inside (no download on first run): `tauri build --bundles deb`. Prints the
# package's path and its installed size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
bash scripts/build-ui.sh
ASSETS="${FANLINE_ASSETS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/fanline/assets}"
# The model and the runtime, checked by fetch-model.sh (sha256), become resources
# under /usr/lib/Fanline/assets; the app looks there when the user has none.
CONFIG=$(python3 - "$ASSETS" "$ROOT" <<'PY'
import json, sys
assets, root = sys.argv[1], sys.argv[2]
print(json.dumps({
  "build": {"frontendDist": f"{root}/ui/dist"},
  # Paths in tauri.conf.json are relative to the root; the CLI works from src-tauri.
  "bundle": {"icon": [f"{root}/icons/{i}" for i in ("32x32.png", "128x128.png", "icon.png")], "resources": {
    f"{assets}/models/all-minilm-l6-v2/": "assets/models/all-minilm-l6-v2/",
    f"{assets}/onnxruntime/libonnxruntime.so.1.31.1": "assets/onnxruntime/libonnxruntime.so.1.31.1",
  }},
}))
PY
)
# The CLI finds the app through src-tauri/tauri.conf.json (a link to the root one).
# Build, strip the debug line tables release builds keep for profiling (most of the
# binary's size), then bundle.
export TAURI_APP_PATH=src-tauri TAURI_FRONTEND_PATH=ui
ui/node_modules/.bin/tauri build --no-bundle --config "$CONFIG"
strip "$CARGO_TARGET_DIR/release/fanline-desktop"
ui/node_modules/.bin/tauri bundle --bundles deb --config "$CONFIG"
DEB="$(ls -t "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb | head -1)"
echo "package: $DEB ($(du -h "$DEB" | cut -f1) to download, $(dpkg-deb -f "$DEB" Installed-Size) KiB installed)"
