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
apt_install chromium "install Chromium and set CT_CHROMIUM_PATH to its binary"
step "chromium: $("$CHROMIUM" --version 2>/dev/null)"
