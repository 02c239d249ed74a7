#!/usr/bin/env bash
# The main job on the embedded defaults (local model, no API key): set up, build
# `fanline`, create the data directory, import the sample creator's knowledge base at
# its three layers, and answer a few fan questions from it.
#
#   FANLINE_DATA_DIR  data directory to use (default: the OS data folder)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

echo "building fanline (release)…"
cargo build --release --quiet -p fanline-cli
FANLINE="$CARGO_TARGET_DIR/release/fanline"
KB="$ROOT/examples/creator-kb"

"$FANLINE" init
"$FANLINE" import "$KB/public"
"$FANLINE" import --layer friends "$KB/friends"
"$FANLINE" import --layer intimate "$KB/intimate"
"$FANLINE" canonical list >/dev/null

ask() { echo; echo "── $1 ($2)"; "$FANLINE" search "$1" --layer "$2" -n 2; }
ask "How much does your writing workshop cost?" public
ask "What microphone do you use for your videos?" public
ask "I can't finish my draft, any advice?" public
ask "What is the next novel about?" public
ask "What is the next novel about?" friends
echo
"$FANLINE" doctor
