#!/usr/bin/env bash
# Build the real Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl) and helm from their Go modules at
# the versions pinned in tools/*/go.mod, into a cache keyed by those pins.
#
# Prints the cache directory holding the binaries. A second call with the same pins
# returns at once. Override the cache root with TRACKER_TOOLS_CACHE.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
k8s_version=v1.35.4
etcd_version=v3.6.5
helm_version=v3.21.4

key=$(cat "$repo"/tools/controlplane/go.mod "$repo"/tools/controlplane/go.sum \
          "$repo"/tools/helm/go.mod "$repo"/tools/helm/go.sum | sha256sum | cut -c1-12)
source "$repo/scripts/lib/tool-cache.sh"
bin="$tool_cache_root/k8s-$k8s_version-etcd-$etcd_version-helm-$helm_version-$key"
tool_cache_open "$bin" etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm

minor=${k8s_version#v1.}; minor=${minor%%.*}
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X '$pkg.gitVersion=$k8s_version' -X '$pkg.gitMajor=1'"
  k8s_ldflags+=" -X '$pkg.gitMinor=$minor' -X '$pkg.gitTreeState=clean'"
  k8s_ldflags+=" -X '$pkg.gitCommit=module-$k8s_version' -X '$pkg.buildDate=$build_date'"
done

cd "$repo/tools/controlplane"
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  echo "build-control-plane: building $cmd $k8s_version" >&2
  go build -trimpath -ldflags "$k8s_ldflags" -o "$bin.partial/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done
echo "build-control-plane: building etcd $etcd_version" >&2
go build -trimpath -ldflags "-s -w" -o "$bin.partial/etcd" go.etcd.io/etcd/server/v3

cd "$repo/tools/helm"
echo "build-control-plane: building helm $helm_version" >&2
go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version" \
  -o "$bin.partial/helm" helm.sh/helm/v3/cmd/helm

tool_cache_close "$bin"
