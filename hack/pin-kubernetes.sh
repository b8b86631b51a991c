#!/usr/bin/env bash
# Pins a Kubernetes release for the local control plane: rewrites hack/tools/<dir>/go.mod and go.sum so
# that hack/build-tools.sh builds kube-apiserver and kubectl of that release. k8s.io/kubernetes is not
# meant to be used as a module: its go.mod replaces every staging module (k8s.io/api, k8s.io/apiserver,
# …) with a folder of its own tree, which a consumer cannot see, so each becomes the published
# v0.<minor>.<patch> tag of that module; its godebug default is kept.
#
# Usage: hack/pin-kubernetes.sh v1.37.2 [DIR]   (DIR under hack/tools: k8s, the default, or k8s-<minor>)
# Then pin etcd to the release that Kubernetes names in build/dependencies.yaml (newest patch):
#   (cd hack/tools/etcd && go get -tool go.etcd.io/etcd/server/v3@v3.X.Y && go mod tidy)
set -euo pipefail

version=${1:?usage: hack/pin-kubernetes.sh v1.MINOR.PATCH [DIR]}
dir=${2:-k8s}
[[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "not a Kubernetes release: $version" >&2; exit 2; }
staging="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
tools=$(cd "$(dirname "$0")/tools" && pwd)
mkdir -p "$tools/$dir"
cd "$tools/$dir"

upstream=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$upstream" ] || { echo "the Go module proxy did not serve k8s.io/kubernetes@$version" >&2; exit 1; }

rm -f go.mod go.sum
go mod init "greenlight.dev/hack/tools/$dir" 2>/dev/null
go mod edit -go="$(sed -n 's/^go //p' "$upstream")"
for module in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*#\1#p' "$upstream"); do
  go mod edit -replace="$module=$module@$staging"
done
godebug=$(sed -n 's/^godebug //p' "$upstream")
[ -z "$godebug" ] || go mod edit -godebug="$godebug"
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$version" "k8s.io/kubernetes/cmd/kubectl@$version"
go mod tidy
echo "hack/tools/$dir pins k8s.io/kubernetes $version (staging modules $staging)" >&2
