#!/usr/bin/env bash
# The main job on the embedded defaults (local model, no API key): set up, build
# `fanline`, create the data directory, import the sample creator's knowledge base at
# its three layers, and answer a few fan questions from it.
#
#   FANLINE_DATA_DIR  data directory to use (default: the OS data folder)
#   FANLINE_PROFILE   cargo profile to build (default: release; the tests use dev,
#                     which they have already built)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

PROFILE="${FANLINE_PROFILE:-release}"
echo "building fanline ($PROFILE)…"
cargo build --profile "$PROFILE" --quiet -p fanline-cli
case "$PROFILE" in dev) OUT=debug ;; *) OUT="$PROFILE" ;; esac
FANLINE="$CARGO_TARGET_DIR/$OUT/fanline"
KB="$ROOT/examples/creator-kb"

"$FANLINE" init
"$FANLINE" import "$KB/public"
"$FANLINE" import --layer friends "$KB/friends"
"$FANLINE" import --layer intimate "$KB/intimate"

ask() { echo; echo "── $1 ($2)"; "$FANLINE" search "$1" --layer "$2" -n 2; }
ask "How much does your writing workshop cost?" public
ask "What microphone do you use for your videos?" public
ask "I can't finish my draft, any advice?" public
ask "What is the next novel about?" public
ask "What is the next novel about?" friends
echo
"$FANLINE" doctor
