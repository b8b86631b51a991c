# Shared set-up for hack/demo and hack/test: Node.js 24 LTS first on PATH and the npm packages installed.
# Sourced, not run.

# Node.js 24 LTS, from the npm registry into a cache outside the repository when the machine's node is older.
greenlight_ensure_node() {
  local major dir
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then return 0; fi
  dir=${GREENLIGHT_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greenlight/node24}
  if [ ! -x "$dir/bin/node" ]; then
    if ! command -v npm >/dev/null; then
      echo "Greenlight needs Node.js 24 LTS; install it (https://nodejs.org) or any Node.js with npm to bootstrap it." >&2
      return 1
    fi
    echo "Installing Node.js 24 LTS into $dir (the machine has node ${major:-none})" >&2
    npm install --global --prefix "$dir" --no-audit --no-fund node@24 >&2
  fi
  export PATH="$dir/bin:$PATH"
}

# npm packages, reinstalled only when package-lock.json changed since the last install.
greenlight_ensure_packages() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Installing npm packages" >&2
    npm ci --no-audit --no-fund >&2
  fi
}

greenlight_setup() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.." || return 1
  greenlight_ensure_node && greenlight_ensure_packages
}
