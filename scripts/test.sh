#!/usr/bin/env bash
# Set up a fresh machine and run every check and test: formatting, the UI's type check,
# the engine's dependency rule, clippy (no warnings), the docs (no warnings), the whole
# test suite (the PostgreSQL store's tests on a throwaway PostgreSQL 15), the README's
# main command, the chat widget in Chromium and the desktop app end to end.
#
# One build serves the tests, the README demo check and the end-to-end run: the test
# build has the desktop app's UI embedded (custom-protocol) and the stand-in embedder
# compiled in, and the demo and the end-to-end run use the binaries it made. Each
# step's time is printed at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T0=$SECONDS
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
# Each clone builds the workspace's own crates anew under its own path, into the shared
# build cache: drop what clones older than half a day left (incremental caches, their
# test binaries and libraries), so the cache does not fill the disk. The dependencies'
# builds, shared by every clone, stay.
if [ -d "$CARGO_TARGET_DIR/debug" ]; then
  find "$CARGO_TARGET_DIR/debug/incremental" -mindepth 1 -maxdepth 1 -mmin +720 -exec rm -rf {} + 2>/dev/null || true
  find "$CARGO_TARGET_DIR/debug/deps" -maxdepth 1 -type f -mmin +720 \
    \( -name 'libfanline_*' -o \( -executable ! -name 'lib*' ! -name '*.so' \) \) -delete 2>/dev/null || true
fi
# A throwaway PostgreSQL 15 (with pgvector) on a Unix socket for the hub's PostgreSQL
# store tests; stopped at the end.
source "$ROOT/scripts/pg.sh"
pg_setup
pg_start
trap 'pg_stop' EXIT
TIMES=("setup $((SECONDS - T0))")

# Run a step, showing its output and keeping it in $log; its exit code goes to $rc, its
# time to the table at the end.
log="$(mktemp)"
trap 'rm -f "$log"; pg_stop' EXIT
step() {
  local name="$1"; shift
  echo "== $name"
  local t=$SECONDS
  set +e; "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}; set -e
  TIMES+=("$name $((SECONDS - t))")
}
count() { { grep -Eo "$1" "$log" || true; } | awk -v f="$2" '{s+=$f} END {print s+0}'; } # sum field $2 of matches of $1
times() { printf '\n%-34s %8s\n' "step" "seconds"; for s in "${TIMES[@]}"; do printf '%-34s %8s\n' "${s% *}" "${s##* }"; done; printf '%-34s %8s\n' "total" "$((SECONDS - T0))"; }
fail() { echo "$passed passed, $1 failed"; times; exit "$rc"; }
passed=0

FEATURES="fanline-desktop/custom-protocol,fanline-cli/test-embedder"

step "format" cargo fmt --all --check
[ "$rc" = 0 ] || fail 1
step "desktop UI: type check, bundle" bash scripts/build-ui.sh
[ "$rc" = 0 ] || fail 1

step "engine stays pure" bash -c "! cargo tree -p fanline-engine -e normal --prefix none --format '{p}' \
  | grep -Ei '^(tauri|axum|rusqlite|tantivy|fastembed|ort|reqwest|hyper|tokio-postgres)[- ]'"
[ "$rc" = 0 ] || { echo "fanline-engine must not depend on the crates above" >&2; fail 1; }

step "clippy" cargo clippy --workspace --all-targets --features "$FEATURES" --quiet -- -D warnings
[ "$rc" = 0 ] || fail 1
step "docs (engine, core)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet -p fanline-engine -p fanline-core
[ "$rc" = 0 ] || fail 1

step "tests" cargo test --workspace --features "$FEATURES" --quiet --no-fail-fast
passed=$(count '^test result: [a-zA-Z]+\. [0-9]+ passed' 4)
failed=$(count '[0-9]+ failed' 1)
[ "$rc" = 0 ] || fail "$failed"

step "the README's main command" env FANLINE_BIN="$CARGO_TARGET_DIR/debug/fanline" bash tests/readme_demo.sh
[ "$rc" = 0 ] || fail 1
passed=$((passed + 1))

step "the chat widget in Chromium" env FANLINE_BIN="$CARGO_TARGET_DIR/debug/fanline" bash tests/widget/run.sh
passed=$((passed + $(count '^(ℹ|#) pass [0-9]+' 3)))
widget_failed=$(count '^(ℹ|#) fail [0-9]+' 3)
[ "$rc" = 0 ] || fail "$((widget_failed > 0 ? widget_failed : 1))"

step "the desktop app end to end" env FANLINE_E2E_APP="$CARGO_TARGET_DIR/debug/fanline-desktop" FANLINE_BIN="$CARGO_TARGET_DIR/debug/fanline" bash tests/e2e/run.sh
passed=$((passed + $(count '^(ℹ|#) pass [0-9]+' 3)))
e2e_failed=$(count '^(ℹ|#) fail [0-9]+' 3)
[ "$rc" = 0 ] || fail "$((e2e_failed > 0 ? e2e_failed : 1))"
echo "$passed passed, 0 failed"
times
