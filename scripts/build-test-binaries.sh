#!/usr/bin/env bash
# Builds, from Go modules only, the real binaries kurator's local control plane and e2e tests use:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok, helm and Karmada's
# aggregated-apiserver, controller-manager, scheduler, webhook and karmadactl, the Prometheus Operator,
# Thanos, and Cluster API's core, kubeadm bootstrap and kubeadm control-plane controllers and clusterctl, at the versions pinned in scripts/versions.env. Results are cached outside the repo, keyed by version:
#   $KURATOR_BIN_CACHE/<component>-<version>/<binary>      (default ~/.cache/kurator/bin)
# and published as a local mirror laid out like the upstream release pages, with a catalog overlay
# holding the sha256 of these local builds:
#   $KURATOR_MIRROR_DIR/<host>/<path>                       (default ~/.cache/kurator/mirror)
#   $KURATOR_MIRROR_DIR/catalog-overlay.yaml
# Does nothing for a component already built. Needs network only to reach the Go module proxy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache=${KURATOR_BIN_CACHE:-$HOME/.cache/kurator/bin}
mirror=${KURATOR_MIRROR_DIR:-$HOME/.cache/kurator/mirror}
work=${KURATOR_BUILD_DIR:-$HOME/.cache/kurator/build}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$cache" "$mirror" "$work"
# One build at a time (a CI run and a developer's run share the cache): the second waits.
exec 9>"$work/.lock"
flock -n 9 || { echo "[build-test-binaries] another build is running; waiting for it" >&2; flock 9; }

log() { printf '[build-test-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Runs a build step with its output in a log, shown only when it fails.
quiet() {
  local name=$1; shift
  local l="$work/$name.log"
  if ! "$@" >"$l" 2>&1; then
    log "$name: build failed; its output ($l):"
    tail -n 60 "$l" >&2
    exit 1
  fi
}
have() { [ -x "$cache/$1-$2/$3" ]; }

k8s_ldflags() {
  local v=$1 major minor
  major=${v#v}; major=${major%%.*}
  minor=${v#v*.}; minor=${minor%%.*}
  local f="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    f+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$f"
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl) todo=()
  for b in "${bins[@]}"; do have kubernetes "$v" "$b" || todo+=("$b"); done
  ((${#todo[@]})) || { log "kubernetes $v: cached"; return; }
  log "kubernetes $v: building ${todo[*]} (cold: tens of minutes)"
  local d="$work/kubernetes-$v"
  mkdir -p "$d"
  local modjson gomod
  modjson=$(cd "$d" && go mod download -json "k8s.io/kubernetes@$v" 2>"$work/kubernetes-$v.log")
  gomod=$(printf '%s' "$modjson" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$gomod" ] || { log "could not download k8s.io/kubernetes@$v"; exit 1; }
  local staging_v="v0.${v#v1.}"
  {
    echo "module kurator.local/k8s-wrapper"
    grep -E '^go [0-9]' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo "require k8s.io/kubernetes $v"
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[A-Za-z0-9._-]*\) => ./staging/.*#\1#p' "$gomod" |
      while read -r m; do echo "	$m => $m $staging_v"; done
    echo ")"
  } >"$d/go.mod"
  local out="$d/out"
  mkdir -p "$out"
  local pkgs=()
  for b in "${todo[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  quiet "kubernetes-$v" bash -c 'cd "$1" && shift && go build -trimpath -ldflags "$1" -o "$2/" "${@:3}"' \
    _ "$d" "$(k8s_ldflags "$v")" "$out" "${pkgs[@]}"
  mkdir -p "$cache/kubernetes-$v"
  for b in "${todo[@]}"; do install -m 0755 "$out/$b" "$cache/kubernetes-$v/$b"; done
}

build_simple() { # component version module-package binary ldflags
  local c=$1 v=$2 pkg=$3 bin=$4 ldflags=$5
  have "$c" "$v" "$bin" && { log "$c $v: cached"; return; }
  log "$c $v: building $pkg"
  local d="$work/$c-$v"
  mkdir -p "$d/out"
  local mod=${pkg%%@*}
  local modpath=$6
  printf 'module kurator.local/%s-wrapper\n\ngo 1.24\n\nrequire %s %s\n' "$c" "$modpath" "$v" >"$d/go.mod"
  printf 'package tools\n\nimport _ "%s"\n' "$mod" >"$d/tools.go"
  quiet "$c-$v" bash -c 'cd "$1" && go mod download "$2@$3" && go build -trimpath -ldflags "$4" -o "out/$5" "$6"' \
    _ "$d" "$modpath" "$v" "$ldflags" "$bin" "$mod"
  mkdir -p "$cache/$c-$v"
  install -m 0755 "$d/out/$bin" "$cache/$c-$v/$bin"
}

build_karmada() {
  # One module (no replace directives), five commands; binaries are named after their cmd folder.
  local v=$KARMADA_VERSION bins=(karmada-aggregated-apiserver karmada-controller-manager karmada-scheduler
    karmada-webhook karmadactl) todo=()
  for b in "${bins[@]}"; do have karmada "$v" "$b" || todo+=("$b"); done
  ((${#todo[@]})) || { log "karmada $v: cached"; return; }
  log "karmada $v: building ${todo[*]}"
  local d="$work/karmada-$v" m=github.com/karmada-io/karmada pkgs=()
  mkdir -p "$d/out"
  printf 'module kurator.local/karmada-wrapper\n\ngo 1.25\n\nrequire %s %s\n' "$m" "$v" >"$d/go.mod"
  printf 'package tools\n\nimport _ "%s/cmd/karmadactl"\n' "$m" >"$d/tools.go"
  for b in "${todo[@]}"; do pkgs+=("$m/cmd/${b#karmada-}"); done
  local ld="-s -w -X $m/pkg/version.gitVersion=$v -X $m/pkg/version.gitTreeState=clean"
  ld+=" -X $m/pkg/version.buildDate=1970-01-01T00:00:00Z"
  quiet "karmada-$v" bash -c 'cd "$1" && go mod download "$2@$3" && go build -trimpath -ldflags "$4" -o out/ "${@:5}"' \
    _ "$d" "$m" "$v" "$ld" "${pkgs[@]}"
  mkdir -p "$cache/karmada-$v"
  for b in "${todo[@]}"; do
    local src="$d/out/${b#karmada-}"
    install -m 0755 "$src" "$cache/karmada-$v/$b"
  done
}

build_prometheus_operator() {
  # The root go.mod replaces its pkg/apis/monitoring and pkg/client submodules with local folders, so
  # `go install` refuses it: a wrapper module requires the root and both submodules at the same version.
  local v=$PROMETHEUS_OPERATOR_VERSION c=prometheus-operator m=github.com/prometheus-operator/prometheus-operator
  have "$c" "$v" prometheus-operator && { log "$c $v: cached"; return; }
  log "$c $v: building $m/cmd/operator"
  local d="$work/$c-$v"
  mkdir -p "$d/out"
  printf 'module kurator.local/%s-wrapper\n\ngo 1.26.0\n\nrequire (\n\t%s %s\n\t%s/pkg/apis/monitoring %s\n\t%s/pkg/client %s\n)\n' \
    "$c" "$m" "$v" "$m" "$v" "$m" "$v" >"$d/go.mod"
  printf 'package tools\n\nimport _ "%s/cmd/operator"\n' "$m" >"$d/tools.go"
  quiet "$c-$v" bash -c 'cd "$1" && go mod download "$2@$3" && go build -trimpath -ldflags "$4" -o out/prometheus-operator "$2/cmd/operator"' \
    _ "$d" "$m" "$v" "-s -w -X github.com/prometheus/common/version.Version=${v#v}"
  mkdir -p "$cache/$c-$v"
  install -m 0755 "$d/out/prometheus-operator" "$cache/$c-$v/prometheus-operator"
}

build_thanos() {
  # Six module->module replace lines: build inside a writable copy of the module's own source (it has
  # its go.sum), as its Makefile does.
  local v=$THANOS_VERSION
  have thanos "$v" thanos && { log "thanos $v: cached"; return; }
  log "thanos $v: building github.com/thanos-io/thanos/cmd/thanos"
  local d="$work/thanos-$v"
  rm -rf "$d"; mkdir -p "$d"
  quiet "thanos-$v" bash -c '
    set -e
    dir=$(cd "$1" && go mod download -json "github.com/thanos-io/thanos@$2" | sed -n "s/.*\"Dir\": \"\(.*\)\".*/\1/p")
    cp -r "$dir" "$1/src"; chmod -R u+w "$1/src"
    cd "$1/src" && go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${2#v}" -o ../thanos ./cmd/thanos' \
    _ "$d" "$v"
  mkdir -p "$cache/thanos-$v"
  install -m 0755 "$d/thanos" "$cache/thanos-$v/thanos"
  rm -rf "$d/src"
}

build_cluster_api() {
  # cluster-api's go.mod replaces sigs.k8s.io/cluster-api/api with ./api, so `go install` refuses it: a
  # wrapper module requires both at the same version. The three controllers' mains are core/,
  # bootstrap/kubeadm/ and controlplane/kubeadm/ (v1.14 has none at the root), plus clusterctl.
  local v=$CLUSTER_API_VERSION c=cluster-api m=sigs.k8s.io/cluster-api todo=()
  local -A pkg=([capi-core]=core [capi-kubeadm-bootstrap]=bootstrap/kubeadm
    [capi-kubeadm-control-plane]=controlplane/kubeadm [clusterctl]=cmd/clusterctl)
  for b in capi-core capi-kubeadm-bootstrap capi-kubeadm-control-plane clusterctl; do
    have "$c" "$v" "$b" || todo+=("$b")
  done
  ((${#todo[@]})) || { log "$c $v: cached"; return; }
  log "$c $v: building ${todo[*]}"
  local d="$work/$c-$v"
  mkdir -p "$d/out"
  printf 'module kurator.local/%s-wrapper\n\ngo 1.26.0\n\nrequire (\n\t%s %s\n\t%s/api %s\n)\n' \
    "$c" "$m" "$v" "$m" "$v" >"$d/go.mod"
  printf 'package tools\n\nimport (\n\t_ "%s/core"\n\t_ "%s/bootstrap/kubeadm"\n\t_ "%s/controlplane/kubeadm"\n\t_ "%s/cmd/clusterctl"\n)\n' \
    "$m" "$m" "$m" "$m" >"$d/tools.go"
  local ld="-s -w"
  for p in sigs.k8s.io/cluster-api/version k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  quiet "$c-$v" bash -c 'cd "$1" && go mod download "$2@$3" "$2/api@$3"' _ "$d" "$m" "$v"
  for b in "${todo[@]}"; do
    quiet "$c-$v-$b" bash -c 'cd "$1" && go build -trimpath -ldflags "$2" -o "out/$3" "$4"' \
      _ "$d" "$ld" "$b" "$m/${pkg[$b]}"
    mkdir -p "$cache/$c-$v"
    install -m 0755 "$d/out/$b" "$cache/$c-$v/$b"
  done
}

publish_mirror() {
  # Lay the binaries out at the paths of their upstream release URLs (see manifests/catalog.yaml),
  # packed the way upstream packs them, and record their digests in a catalog overlay.
  local os=linux arch=amd64 k=$KUBERNETES_VERSION e=$ETCD_VERSION w=$KWOK_VERSION h=$HELM_VERSION
  local overlay="$mirror/catalog-overlay.yaml.tmp"
  echo "# Written by scripts/build-test-binaries.sh: digests of local builds from Go modules." >"$overlay"
  echo "artifacts:" >>"$overlay"
  add() { # name version relpath
    local sum; sum=$(sha256sum "$mirror/$3" | cut -d' ' -f1)
    printf '  - {name: %s, version: "%s", os: %s, arch: %s, sha256: %s}\n' "$1" "$2" "$os" "$arch" "$sum" >>"$overlay"
  }
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    local p="dl.k8s.io/release/$k/bin/$os/$arch/$b"
    mkdir -p "$mirror/$(dirname "$p")"
    cmp -s "$cache/kubernetes-$k/$b" "$mirror/$p" || install -m 0755 "$cache/kubernetes-$k/$b" "$mirror/$p"
    add "$b" "$k" "$p"
  done
  local p="github.com/kubernetes-sigs/kwok/releases/download/$w/kwok-$os-$arch"
  mkdir -p "$mirror/$(dirname "$p")"; install -m 0755 "$cache/kwok-$w/kwok" "$mirror/$p"; add kwok "$w" "$p"
  local t; t=$(mktemp -d)
  mkdir -p "$t/etcd-$e-$os-$arch" "$t/$os-$arch"
  cp "$cache/etcd-$e/etcd" "$t/etcd-$e-$os-$arch/etcd"
  cp "$cache/helm-$h/helm" "$t/$os-$arch/helm"
  p="github.com/etcd-io/etcd/releases/download/$e/etcd-$e-$os-$arch.tar.gz"
  mkdir -p "$mirror/$(dirname "$p")"
  tar -C "$t" --owner=0 --group=0 --mtime=@0 --sort=name -czf "$mirror/$p" "etcd-$e-$os-$arch"; add etcd "$e" "$p"
  p="get.helm.sh/helm-$h-$os-$arch.tar.gz"
  mkdir -p "$mirror/$(dirname "$p")"
  tar -C "$t" --owner=0 --group=0 --mtime=@0 --sort=name -czf "$mirror/$p" "$os-$arch"; add helm "$h" "$p"
  rm -rf "$t"
  mv "$overlay" "$mirror/catalog-overlay.yaml"
  log "mirror: $mirror (overlay: $mirror/catalog-overlay.yaml)"
}

build_simple etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 etcd "-s -w" go.etcd.io/etcd/server/v3
build_simple kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok kwok \
  "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" sigs.k8s.io/kwok
build_simple helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm \
  "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm.sh/helm/v3
build_kubernetes
build_karmada
build_prometheus_operator
build_thanos
build_cluster_api
publish_mirror
log "all test binaries present under $cache"
