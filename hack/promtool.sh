#!/usr/bin/env bash
# Provides promtool (Prometheus's rule checker and rule unit-test runner) for the alert tests, from
# Debian's `prometheus` package, unpacked by hack/prometheus.sh into a cache outside the repository.
#
# Usage: hack/promtool.sh          prints promtool=PATH on stdout (progress goes to stderr)
# GREENLIGHT_PROMTOOL=PATH uses that binary instead; GREENLIGHT_TOOLS_DIR moves the cache.
set -euo pipefail
exec bash "$(dirname "$0")/prometheus.sh" promtool
