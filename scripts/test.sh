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

echo "== tests"
log="$(mktemp)"
set +e
cargo test --workspace --quiet 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
[ "$rc" = 0 ] || { echo "$passed passed, $failed failed"; exit "$rc"; }

echo "== the README's main command"
bash tests/readme_demo.sh

echo "== the desktop app end to end (WebDriver, Xvfb)"
log="$(mktemp)"
set +e
bash tests/e2e/run.sh 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
e2e=$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{print $3}')
e2e_failed=$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{print $3}')
rm -f "$log"
[ "$rc" = 0 ] || { echo "$((passed + 1 + ${e2e:-0})) passed, $((failed + ${e2e_failed:-1})) failed"; exit "$rc"; }
echo "$((passed + 1 + ${e2e:-0})) passed, $failed failed"
