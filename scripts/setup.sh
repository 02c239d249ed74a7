#!/usr/bin/env bash
# Set up a fresh machine (Debian 12) for Fanline: system packages, the Rust toolchain
# check, the embedding model and ONNX Runtime. Idempotent: what is there is kept.
# Sourced by demo.sh and test.sh; exports CARGO_TARGET_DIR (builds are cached outside
# the clone, in ~/.cache/fanline/target, unless you set it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
command -v sha256sum >/dev/null 2>&1 || need_apt+=(coreutils)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need_apt+=(ca-certificates)
# The desktop app (Tauri v2 on WebKitGTK).
for pc in webkit2gtk-4.1 gtk+-3.0 ayatana-appindicator3-0.1 librsvg-2.0 openssl; do
  if ! pkg-config --exists "$pc" 2>/dev/null; then
    need_apt+=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev file)
    break
  fi
done
# Headless runs and the end-to-end tests of the app: Xvfb, WebKitWebDriver, screenshots;
# npm for the UI build.
command -v xvfb-run >/dev/null 2>&1 || need_apt+=(xvfb xauth)
command -v WebKitWebDriver >/dev/null 2>&1 || need_apt+=(webkit2gtk-driver)
command -v import >/dev/null 2>&1 || need_apt+=(imagemagick)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The OS keychain (Secret Service over D-Bus) for API keys.
pkg-config --exists dbus-1 2>/dev/null || need_apt+=(libdbus-1-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || { echo "Rust (cargo) is needed: install it with rustup, then run this again" >&2; exit 1; }

bash "$ROOT/scripts/fetch-model.sh"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fanline/target}"
