#!/usr/bin/env bash
# Builds the real control-plane binaries (kube-apiserver, kubectl, etcd), helm and the two verdict
# helpers (kstatus, argo-lua), the benchmark's Go controller-runtime peer (bench/peer) and its stand-in
# automation server (bench/receiver) from their Go modules into a cache outside the repository, keyed by
# version, so later runs start in seconds. Versions come from the pinned tool modules under
# hack/tools/*/go.mod (go.sum makes them reproducible).
#
# Usage: hack/build-tools.sh [kube-apiserver|kubectl|etcd|helm|kstatus|argo-lua|greenlight-peer|greenlight-receiver ...]
#        (default: the control plane and helm)
# Prints one line per tool, NAME=PATH, on stdout (progress goes to stderr). Honours GREENLIGHT_TOOLS_DIR
# and GREENLIGHT_KUBERNETES: a Kubernetes minor version other than the default (e.g. 1.35) builds
# kube-apiserver, kubectl and etcd from hack/tools/k8s-<minor> and hack/tools/etcd-<minor> instead.
set -euo pipefail

if ! command -v go >/dev/null; then
  echo "Go 1.26 or newer is needed to build the local control plane (https://go.dev/dl), or set" \
    "GREENLIGHT_ETCD, GREENLIGHT_KUBE_APISERVER and GREENLIGHT_KUBECTL to existing binaries." >&2
  exit 3
fi

here=$(cd "$(dirname "$0")" && pwd)
cache=${GREENLIGHT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/greenlight/tools}
mkdir -p "$cache"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly

module_version() { (cd "$here/tools/$1" && go list -m -f '{{.Version}}' "$2"); }

# The verdict helpers' own source lives in the repository, so their cache key carries a digest of it
# as well as the library's version: an edited main.go builds anew.
# (A module without dependencies has no go.sum.)
source_digest() {
  (cd "$here/tools/$1" && { echo go.mod; [ ! -f go.sum ] || echo go.sum
    find . -maxdepth 1 -name '*.go' ! -name '*_test.go' | LC_ALL=C sort; } | xargs cat | sha256sum | cut -c1-12)
}

# The Kubernetes release the control plane is built from: hack/tools/k8s (the default) or, with
# GREENLIGHT_KUBERNETES=<minor>, hack/tools/k8s-<minor> with etcd from hack/tools/etcd-<minor>.
k8s_dir=k8s etcd_dir=etcd
if [ -n "${GREENLIGHT_KUBERNETES:-}" ]; then
  default_minor=$(module_version k8s k8s.io/kubernetes | sed -E 's/^v([0-9]+\.[0-9]+).*/\1/')
  if [ "$GREENLIGHT_KUBERNETES" != "$default_minor" ]; then
    k8s_dir=k8s-$GREENLIGHT_KUBERNETES etcd_dir=etcd-$GREENLIGHT_KUBERNETES
    if [ ! -f "$here/tools/$k8s_dir/go.mod" ] || [ ! -f "$here/tools/$etcd_dir/go.mod" ]; then
      others=$(cd "$here/tools" && for d in k8s-*/; do [ -d "$d" ] && printf ' %s' "${d#k8s-}"; done | tr -d /)
      echo "GREENLIGHT_KUBERNETES=$GREENLIGHT_KUBERNETES: no pinned modules for it; choose $default_minor" \
        "(the default) or one of:${others:- none}" >&2
      exit 2
    fi
  fi
fi

# build NAME TOOLDIR PACKAGE VERSION LDFLAGS
build() {
  local name=$1 dir=$2 pkg=$3 version=$4 ldflags=$5
  local out="$cache/$name-$version"
  if [ -x "$out/$name" ]; then echo "$name=$out/$name"; return 0; fi
  echo "building $name $version (one time; cached in $out)" >&2
  local start=$SECONDS tmp
  tmp=$(mktemp -d "$cache/.build-$name.XXXXXX")
  (cd "$here/tools/$dir" && go build -trimpath -ldflags "$ldflags" -o "$tmp/$name" "$pkg")
  mkdir -p "$out" && mv "$tmp/$name" "$out/$name" && rmdir "$tmp"
  echo "built $name $version in $((SECONDS - start))s" >&2
  echo "$name=$out/$name"
}

k8s_ldflags() {
  local v=$1 minor ldf="-s -w" p date
  minor=$(echo "$v" | cut -d. -f2)
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  echo "$ldf"
}

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(etcd kube-apiserver kubectl helm)
for tool in "${want[@]}"; do
  case "$tool" in
    kube-apiserver|kubectl)
      v=$(module_version "$k8s_dir" k8s.io/kubernetes)
      build "$tool" "$k8s_dir" "k8s.io/kubernetes/cmd/$tool" "$v" "$(k8s_ldflags "$v")" ;;
    etcd)
      v=$(module_version "$etcd_dir" go.etcd.io/etcd/server/v3)
      build etcd "$etcd_dir" go.etcd.io/etcd/server/v3 "$v" "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$v" ;;
    helm)
      v=$(module_version helm helm.sh/helm/v3)
      # Without these, helm's default capabilities claim Kubernetes 1.20; they follow the control
      # plane's minor, which is therefore part of the cache key.
      kv=$(module_version "$k8s_dir" k8s.io/kubernetes); kminor=$(echo "$kv" | cut -d. -f2)
      hl="-s -w -X helm.sh/helm/v3/internal/version.version=$v"
      for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        hl+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$kminor"
      done
      build helm helm helm.sh/helm/v3/cmd/helm "$v-k8s1.$kminor" "$hl" ;;
    kstatus)
      v=$(module_version kstatus sigs.k8s.io/cli-utils)
      build kstatus kstatus . "$v-$(source_digest kstatus)" "-s -w" ;;
    argo-lua)
      v=$(module_version argo-lua github.com/yuin/gopher-lua)
      build argo-lua argo-lua . "$v-$(source_digest argo-lua)" "-s -w" ;;
    greenlight-peer)
      # The benchmark's Go peer (bench/peer): its source is in the repository, like the verdict helpers'.
      v=$(module_version ../../bench/peer sigs.k8s.io/controller-runtime)
      build greenlight-peer ../../bench/peer . "$v-$(source_digest ../../bench/peer)" "-s -w" ;;
    greenlight-receiver)
      # The benchmark's stand-in automation server (bench/receiver): the standard library only, so the
      # Go release it is built with is its version.
      v=$(go env GOVERSION)
      build greenlight-receiver ../../bench/receiver . "$v-$(source_digest ../../bench/receiver)" "-s -w" ;;
    *) echo "unknown tool: $tool (expected kube-apiserver, kubectl, etcd, helm, kstatus, argo-lua, greenlight-peer or greenlight-receiver)" >&2; exit 2 ;;
  esac
done
