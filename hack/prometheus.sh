#!/usr/bin/env bash
# Provides Prometheus's server and promtool from Debian's `prometheus` package: the .deb is downloaded
# with `apt-get download` and unpacked with `dpkg-deb -x` into a cache outside the repository, keyed by
# version, with the web UI's page templates next to them. Nothing is installed and no service is started. The server runs the alert tests against a
# live controller (and `greenlight demo --prometheus`); promtool checks and unit-tests the rules.
#
# Usage: hack/prometheus.sh [prometheus] [promtool]   prints NAME=PATH lines on stdout (default: both;
#                                                       progress goes to stderr)
# GREENLIGHT_PROMETHEUS=PATH and GREENLIGHT_PROMTOOL=PATH use those binaries instead; GREENLIGHT_TOOLS_DIR
# moves the cache (default ~/.cache/greenlight/tools, next to the control-plane binaries).
set -euo pipefail

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(prometheus promtool)
for name in "${want[@]}"; do
  case "$name" in
    prometheus | promtool) ;;
    *) echo "unknown tool: $name (expected prometheus or promtool)" >&2; exit 2 ;;
  esac
done

override() { case "$1" in prometheus) echo "${GREENLIGHT_PROMETHEUS:-}" ;; promtool) echo "${GREENLIGHT_PROMTOOL:-}" ;; esac; }

cache=${GREENLIGHT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greenlight/tools}
mkdir -p "$cache"

# Already unpacked: the newest cached version that has both binaries, without asking apt anything.
newest_cached() {
  local dir
  for dir in $(find "$cache" -maxdepth 1 -type d -name 'prometheus-*' 2>/dev/null | sort -V -r); do
    if [ -x "$dir/prometheus" ] && [ -x "$dir/promtool" ]; then echo "$dir"; return 0; fi
  done
}

unpack() {
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    echo "Prometheus is missing: install Prometheus (server and promtool) and set GREENLIGHT_PROMETHEUS and" \
      "GREENLIGHT_PROMTOOL to them (this script needs apt-get and dpkg-deb to fetch Debian's prometheus package)" >&2
    return 3
  fi
  candidate() { apt-cache show --no-all-versions prometheus 2>/dev/null | awk '/^Version:/ && !found { print $2; found = 1 }'; }
  local version out tmp
  version=$(candidate)
  if [ -z "$version" ]; then
    echo "apt knows no prometheus package yet: running apt-get update" >&2
    apt-get update >&2
    version=$(candidate)
  fi
  if [ -z "$version" ]; then
    echo "no prometheus package in this machine's apt sources; set GREENLIGHT_PROMETHEUS and GREENLIGHT_PROMTOOL instead" >&2
    return 3
  fi
  out="$cache/prometheus-$version"
  tmp=$(mktemp -d "$cache/.prometheus.XXXXXX")
  echo "fetching Debian's prometheus $version (one time; cached in $out)" >&2
  # As root, apt hands downloads to its unprivileged _apt user, which cannot write into our temp folder.
  local sandbox=()
  [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
  if ! (cd "$tmp" && apt-get "${sandbox[@]}" download "prometheus=$version" >&2) ||
    ! dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"; then
    rm -rf "$tmp"
    return 3
  fi
  mkdir -p "$out"
  # The classic web UI's templates come along (its JavaScript libraries are other Debian packages).
  mv "$tmp/root/usr/share/prometheus/web" "$out/web"
  mv "$tmp/root/usr/bin/prometheus" "$tmp/root/usr/bin/promtool" "$out/"
  rm -rf "$tmp"
  "$out/prometheus" --version >&2
  echo "$out"
}

dir=""
for name in "${want[@]}"; do
  path=$(override "$name")
  if [ -n "$path" ]; then
    if [ ! -x "$path" ]; then
      echo "GREENLIGHT_${name^^}=$path is not an executable file" >&2
      exit 2
    fi
  else
    [ -n "$dir" ] || dir=$(newest_cached)
    [ -n "$dir" ] || dir=$(unpack)
    path="$dir/$name"
  fi
  echo "$name=$path"
done
