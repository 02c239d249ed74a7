#!/usr/bin/env bash
# The README's main command, run as a newcomer would, checked.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fail() { echo "readme_demo: $*" >&2; exit 1; }

# The README shows exactly two commands.
n=$(awk '/^## Two commands/{f=1;next} /^## /{f=0} f && /^bash /' "$ROOT/README.md" | wc -l)
[ "$n" = 2 ] || fail "the README's 'Two commands' section has $n commands, not 2"

data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
# The tests have built the dev profile already; the script is the same either way.
export FANLINE_PROFILE="${FANLINE_PROFILE:-dev}"
out="$(FANLINE_DATA_DIR="$data" bash "$ROOT/scripts/demo.sh" 2>&1)" || { echo "$out"; fail "demo.sh failed"; }

section() { # the output between "── $1 ($2)" and the next "──"
  awk -v h="── $1 ($2)" 'index($0, h) == 1 {f=1; next} /^── / {f=0} f' <<<"$out"
}
section "How much does your writing workshop cost?" public | grep -q "29 euros" || fail "price question not answered"
section "What microphone do you use for your videos?" public | grep -q "Rode PodMic" || fail "microphone question not answered"
section "What is the next novel about?" public | grep -q "Lantern Keepers" && fail "friends content shown to a public viewer"
section "What is the next novel about?" friends | grep -q "Lantern Keepers" || fail "friends content hidden from a friend"
grep -q "everything is in place" <<<"$out" || fail "doctor did not pass"
# Running it again is idempotent: nothing is imported twice.
again="$(FANLINE_DATA_DIR="$data" bash "$ROOT/scripts/demo.sh" 2>&1)" || fail "second run failed"
grep -q "0 imported, 5 unchanged" <<<"$again" || fail "second run re-imported files"
echo "1 passed, 0 failed"
