#!/usr/bin/env bash
# The main job on the embedded defaults (local model, no API key): set up, build
# `fanline`, create the data directory, import the sample creator's knowledge base at
# its three layers, search it, then route fan messages through every path: answered
# from the documents (A), a clarifying question (B), escalated to the creator (D),
# accepted into the queue (E), answered by the creator, then served again from that
# canonical answer (C), and refused (F). Then the hub (`fanline serve`): a fan's message
# reaches it over HTTP, and the creator's answer comes back on the fan's event stream.
#
#   FANLINE_DATA_DIR  data directory to use (default: the OS data folder)
#   FANLINE_NO_APP    set: do not open the desktop app at the end (it opens when
#                     there is a display)
#   FANLINE_PROFILE   cargo profile to build (default: release)
#   FANLINE_BIN       a `fanline` binary to use instead of building one (the test
#                     command passes the one its test build made)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

PROFILE="${FANLINE_PROFILE:-release}"
case "$PROFILE" in dev) OUT=debug ;; *) OUT="$PROFILE" ;; esac
if [ -n "${FANLINE_BIN:-}" ]; then
  FANLINE="$FANLINE_BIN"
else
  echo "building fanline ($PROFILE)…"
  cargo build --profile "$PROFILE" --quiet -p fanline-cli
  FANLINE="$CARGO_TARGET_DIR/$OUT/fanline"
fi
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

# Routing. Three fans: free, follower and paid (the default rules serve every tier).
# `fan add` refuses a handle that exists (a second run): then `fan set` keeps the tier.
fan() { "$FANLINE" fan add "$1" --tier "$2" >/dev/null 2>&1 || "$FANLINE" fan set "$1" --tier "$2" >/dev/null; }
fan maya free
fan theo follower
fan pat paid
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1 if d$1 is not None else '')"; }
route() { # fan, message → prints the path and the reply; leaves the JSON in $LAST
  echo; echo "── $1: $2"
  LAST="$("$FANLINE" route --fan "$1" "$2" --json)"
  echo "path $(field "['path']" <<<"$LAST") — $(field "['reason']" <<<"$LAST")"
  field "['reply']" <<<"$LAST" | sed 's/^/   /'
}
route maya "How much does your writing workshop cost?"
route maya "and that?"
QUESTION="Would you ever co-write a novel with one of your readers?"
route maya "$QUESTION"
OFFER="$(field "['escalation_id']" <<<"$LAST")"
if [ -n "$OFFER" ]; then
  echo; echo "── maya accepts offer #$OFFER"; "$FANLINE" accept "$OFFER"
  echo; echo "── the creator's queue"; "$FANLINE" queue list
  echo; echo "── the creator answers #$OFFER"
  "$FANLINE" queue answer "$OFFER" --text "I love the idea, but no: my novels are a solitary craft. I do run a co-writing workshop twice a year."
fi
route theo "Would you ever co-write a novel with a reader?"
route pat "What's the capital of Australia?"
echo; echo "── why did that go where it went? (the last decision's trace)"
"$FANLINE" decisions show "$(field "['decision_id']" <<<"$LAST")" | tail -n 18
echo; echo "── metrics"
"$FANLINE" metrics --days 1
echo
"$FANLINE" doctor

# The hub: the same engine over HTTP. A fan writes from the web, accepts the offer, and
# sees the creator's answer (given here from the command line) arrive live.
echo; echo "── the hub: fanline serve"
PORT="$(python3 "$ROOT/scripts/free_port.py")"
HUB_LOG="$(mktemp)"
"$FANLINE" serve --listen "127.0.0.1:$PORT" >"$HUB_LOG" 2>&1 &
HUB_PID=$!
trap 'kill "$HUB_PID" 2>/dev/null || true; rm -f "$HUB_LOG"' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" 2>/dev/null && break
  sleep 0.2
done
head -n 3 "$HUB_LOG"
SITE="$("$FANLINE" hub site --json | field "['site_key']")"
python3 "$ROOT/scripts/hub-demo.py" "http://127.0.0.1:$PORT" "$SITE" "$FANLINE"
kill "$HUB_PID" 2>/dev/null || true
wait "$HUB_PID" 2>/dev/null || true

# On a machine with a display, the main job ends in the desktop app, on the same data:
# the queue, the decisions just made with their traces, the metrics with the reuse.
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${FANLINE_NO_APP:-}" ]; then
  echo; echo "── opening the desktop app (building it the first time)…"
  bash "$ROOT/scripts/build-ui.sh"
  cargo build --profile "$PROFILE" --quiet -p fanline-desktop --features custom-protocol
  exec "$CARGO_TARGET_DIR/$OUT/fanline-desktop"
else
  echo; echo "(no display here: on a desktop, this command ends by opening the Fanline app)"
fi
