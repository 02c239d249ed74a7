#!/usr/bin/env bash
# Set up a fresh machine and run every check and test: formatting, clippy (no
# warnings), the engine's dependency rule, and the whole test suite with the real model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

echo "== format"
cargo fmt --all --check

echo "== desktop UI: type check against the generated bindings, bundle"
bash scripts/build-ui.sh

echo "== engine stays pure (no tauri, axum, rusqlite, tantivy, fastembed, reqwest)"
if cargo tree -p fanline-engine -e normal --prefix none --format '{p}' | grep -Ei '^(tauri|axum|rusqlite|tantivy|fastembed|ort|reqwest|hyper)[- ]'; then
  echo "fanline-engine must not depend on the crates above" >&2
  exit 1
fi

echo "== clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# Run a command, showing its output and keeping it in $log; its exit code goes to $rc.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
logged() { set +e; "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}; set -e; }
count() { { grep -Eo "$1" "$log" || true; } | awk -v f="$2" '{s+=$f} END {print s+0}'; } # sum field $2 of matches of $1

echo "== tests"
logged cargo test --workspace --quiet --no-fail-fast
passed=$(count '^test result: [a-zA-Z]+\. [0-9]+ passed' 4)
failed=$(count '[0-9]+ failed' 1)
[ "$rc" = 0 ] || { echo "$passed passed, $failed failed"; exit "$rc"; }

echo "== the README's main command"
bash tests/readme_demo.sh
passed=$((passed + 1))

echo "== the desktop app end to end (WebDriver, Xvfb)"
logged bash tests/e2e/run.sh
passed=$((passed + $(count '^(ℹ|#) pass [0-9]+' 3)))
e2e_failed=$(count '^(ℹ|#) fail [0-9]+' 3)
[ "$rc" = 0 ] || { echo "$passed passed, $((failed + (e2e_failed > 0 ? e2e_failed : 1))) failed"; exit "$rc"; }
echo "$passed passed, $failed failed"
