#!/usr/bin/env bash
# The browser for test/stacks/ui.test.ts: Debian's Chromium (never a browser downloaded by a test tool).
# .ci/run calls this; on a workstation, install it yourself or set CT_CHROMIUM_PATH.
set -euo pipefail
LOG_PREFIX=browser
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM="${CT_CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]]; then
  step "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
command -v apt-get >/dev/null || die "no Chromium at $CHROMIUM and no apt-get to install it" "install Chromium and set CT_CHROMIUM_PATH to its binary"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "installing Chromium needs root" "run: sudo apt-get install -y chromium"
  SUDO=(sudo -n)
fi
t=$(date +%s)
step "installing Debian's chromium (apt-get)…"
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends chromium >/tmp/ct-apt-chromium.log 2>&1; then
  "${SUDO[@]}" apt-get update >>/tmp/ct-apt-chromium.log 2>&1 || true
  "${SUDO[@]}" apt-get install -y --no-install-recommends chromium >>/tmp/ct-apt-chromium.log 2>&1 ||
    die "apt-get install chromium failed (log: /tmp/ct-apt-chromium.log)" "install it by hand: apt-get install chromium"
fi
step "chromium installed in $(elapsed "$t"): $("$CHROMIUM" --version 2>/dev/null)"
