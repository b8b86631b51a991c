#!/usr/bin/env bash
# Provides promtool (Prometheus's rule checker and rule unit-test runner) for the alert tests, from
# Debian's `prometheus` package: the .deb is downloaded with `apt-get download` and unpacked with
# `dpkg-deb -x` into a cache outside the repository. Nothing is installed and no service is started.
#
# Usage: hack/promtool.sh          prints promtool=PATH on stdout (progress goes to stderr)
# GREENLIGHT_PROMTOOL=PATH uses that binary instead; GREENLIGHT_TOOLS_DIR moves the cache
# (default ~/.cache/greenlight/tools, next to the control-plane binaries).
set -euo pipefail

if [ -n "${GREENLIGHT_PROMTOOL:-}" ]; then
  if [ ! -x "$GREENLIGHT_PROMTOOL" ]; then
    echo "GREENLIGHT_PROMTOOL=$GREENLIGHT_PROMTOOL is not an executable file" >&2
    exit 2
  fi
  echo "promtool=$GREENLIGHT_PROMTOOL"
  exit 0
fi

cache=${GREENLIGHT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greenlight/tools}
mkdir -p "$cache"

# Already unpacked: the newest cached version, without asking apt anything.
cached=$(find "$cache" -maxdepth 2 -path "$cache/promtool-*/promtool" -type f 2>/dev/null | sort -V | tail -n 1)
if [ -n "$cached" ] && [ -x "$cached" ]; then
  echo "promtool=$cached"
  exit 0
fi

if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "promtool is missing: install Prometheus's promtool and set GREENLIGHT_PROMTOOL to it" \
    "(this script needs apt-get and dpkg-deb to fetch Debian's prometheus package)" >&2
  exit 3
fi

candidate() { apt-cache show --no-all-versions prometheus 2>/dev/null | awk '/^Version:/ && !found { print $2; found = 1 }'; }
version=$(candidate)
if [ -z "$version" ]; then
  echo "apt knows no prometheus package yet: running apt-get update" >&2
  apt-get update >&2
  version=$(candidate)
fi
if [ -z "$version" ]; then
  echo "no prometheus package in this machine's apt sources; set GREENLIGHT_PROMTOOL instead" >&2
  exit 3
fi

out="$cache/promtool-$version"
tmp=$(mktemp -d "$cache/.promtool.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetching Debian's prometheus $version for promtool (one time; cached in $out)" >&2
# As root, apt hands downloads to its unprivileged _apt user, which cannot write into our temp folder.
sandbox=(); [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
(cd "$tmp" && apt-get "${sandbox[@]}" download "prometheus=$version" >&2)
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
mkdir -p "$out"
mv "$tmp/root/usr/bin/promtool" "$out/promtool"
"$out/promtool" --version >&2
echo "promtool=$out/promtool"
