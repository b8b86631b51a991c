#!/usr/bin/env bash
# Provides a headless Chromium for the browser tests (playwright-core drives it; Playwright's own
# browser download does not work without access to its CDN): Debian's `chromium` package, installed
# with apt-get when /usr/bin/chromium is missing.
#
# Usage: hack/chromium.sh          prints chromium=PATH on stdout (progress goes to stderr)
# GREENLIGHT_CHROMIUM=PATH uses that binary instead (any Chromium or Chrome).
set -euo pipefail

if [ -n "${GREENLIGHT_CHROMIUM:-}" ]; then
  if [ ! -x "$GREENLIGHT_CHROMIUM" ]; then
    echo "GREENLIGHT_CHROMIUM=$GREENLIGHT_CHROMIUM is not an executable file" >&2
    exit 2
  fi
  echo "chromium=$GREENLIGHT_CHROMIUM"
  exit 0
fi

binary=/usr/bin/chromium
if [ -x "$binary" ]; then
  echo "chromium=$binary"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "Chromium is missing: install Chromium (or Chrome) and set GREENLIGHT_CHROMIUM to it" \
    "(this script needs apt-get to install Debian's chromium package)" >&2
  exit 3
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "Chromium is missing and installing it needs root: run 'apt-get install -y chromium' as root," \
      "or set GREENLIGHT_CHROMIUM" >&2
    exit 3
  fi
  as_root=(sudo -n)
fi

candidate() { apt-cache policy chromium 2>/dev/null | awk '/Candidate:/ { print $2 }'; }
if [ -z "$(candidate)" ] || [ "$(candidate)" = "(none)" ]; then
  echo "apt knows no chromium package yet: running apt-get update" >&2
  "${as_root[@]}" apt-get update >&2
fi
echo "installing Debian's chromium for the browser tests (one time)" >&2
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends chromium >&2
"$binary" --version >&2
echo "chromium=$binary"
