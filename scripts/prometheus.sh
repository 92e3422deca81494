#!/usr/bin/env bash
# Prometheus and promtool for test/observability/: Debian's `prometheus` package (never a
# binary downloaded by a test). .ci/run calls this. The tests run the binary with a config and a data
# folder of their own on a free port; the Debian service the package sets up plays no part (it is
# stopped if the install started it, so it holds no port).
set -euo pipefail
LOG_PREFIX=prometheus
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMETHEUS="${CT_PROMETHEUS_PATH:-/usr/bin/prometheus}"
PROMTOOL="${CT_PROMTOOL_PATH:-/usr/bin/promtool}"
if [[ -x "$PROMETHEUS" && -x "$PROMTOOL" ]]; then
  step "prometheus: $("$PROMETHEUS" --version 2>&1 | head -1)"
  exit 0
fi
apt_install prometheus "install Prometheus 2.x and set CT_PROMETHEUS_PATH and CT_PROMTOOL_PATH"
# If the package's service did start (systemd hosts), stop it: it would hold port 9090 and scrape nothing of ours.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then systemctl stop prometheus || true; else sudo -n systemctl stop prometheus || true; fi
fi
step "prometheus: $("$PROMETHEUS" --version 2>&1 | head -1)"
