#!/usr/bin/env bash
# Set up a fresh machine and run every check and test: formatting, clippy (no
# warnings), the engine's dependency rule, and the whole test suite with the real model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

echo "== format"
cargo fmt --all --check

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
echo "$((passed + 1)) passed, $failed failed"
