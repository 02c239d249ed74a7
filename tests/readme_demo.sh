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
out="$(FANLINE_NO_APP=1 FANLINE_DATA_DIR="$data" bash "$ROOT/scripts/demo.sh" 2>&1)" || { echo "$out"; fail "demo.sh failed"; }

section() { # the output between "── $1 ($2)" and the next "──"
  awk -v h="── $1 ($2)" 'index($0, h) == 1 {f=1; next} /^── / {f=0} f' <<<"$out"
}
section "How much does your writing workshop cost?" public | grep -q "29 euros" || fail "price question not answered"
section "What microphone do you use for your videos?" public | grep -q "Rode PodMic" || fail "microphone question not answered"
section "What is the next novel about?" public | grep -q "Lantern Keepers" && fail "friends content shown to a public viewer"
section "What is the next novel about?" friends | grep -q "Lantern Keepers" || fail "friends content hidden from a friend"
grep -q "everything is in place" <<<"$out" || fail "doctor did not pass"
# Routing: every path shows up, and the creator's answer is reused.
route_section() { awk -v h="── $1: $2" 'index($0, h) == 1 {f=1; next} /^── / {f=0} f' <<<"$out"; }
route_section maya "How much does your writing workshop cost?" | grep -q "^path A" || fail "workshop price not answered from the documents (A)"
route_section maya "How much does your writing workshop cost?" | grep -q "29 euros" || fail "path A's grounding lacks the price"
route_section maya "and that?" | grep -q "^path B" || fail "vague message not clarified (B)"
route_section maya "Would you ever co-write a novel with one of your readers?" | grep -q "^path D" || fail "novel question not escalated (D)"
grep -q "path E — Sent to the creator" <<<"$out" || fail "acceptance did not queue the escalation (E)"
route_section theo "Would you ever co-write a novel with a reader?" | grep -q "^path C" || fail "the paraphrase was not served from the canonical answer (C)"
route_section theo "Would you ever co-write a novel with a reader?" | grep -q "solitary craft" || fail "C did not serve the creator's answer"
route_section pat "What's the capital of Australia?" | grep -q "^path F" || fail "off-topic message not declined (F)"
route_section pat "What's the capital of Australia?" | grep -q "I can help with questions about" || fail "the decline does not say what the creator covers"
grep -q "why — [0-9]* steps" <<<"$out" || fail "the decision trace was not printed"
grep -q "critic:prompt-injection:message" <<<"$out" || fail "the critics are not in the trace"
grep -q "paths: A 1  B 1  C 1  D 1  E 1  F 1" <<<"$out" || fail "metrics do not show one of each path"
# The hub: a fan's message over HTTP, offered, accepted, answered live.
grep -q "serving fans on http://127.0.0.1" <<<"$out" || fail "the hub did not start"
grep -q "HTTP 201 path D" <<<"$out" || fail "the fan's message over HTTP was not offered to the creator"
grep -q "HTTP 200 replayed" <<<"$out" || fail "a retried request was not replayed"
grep -q "escalation.answered — Yes, gladly" <<<"$out" || fail "the creator's answer did not reach the fan over HTTP"
# Running it again is idempotent: nothing is imported twice.
again="$(FANLINE_NO_APP=1 FANLINE_DATA_DIR="$data" bash "$ROOT/scripts/demo.sh" 2>&1)" || fail "second run failed"
grep -q "0 imported, 5 unchanged" <<<"$again" || fail "second run re-imported files"
# The second time, the co-writing question is served from the library straight away.
awk '/── maya: Would you ever co-write/{f=1;next} /^── /{f=0} f' <<<"$again" | grep -q "^path C" || fail "second run did not reuse the answer"
echo "1 passed, 0 failed"
