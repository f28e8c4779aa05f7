#!/usr/bin/env bash
# Builds the lab's Kubernetes and etcd binaries from their upstream Go modules (module proxy only),
# cached under $OMSTACK_LAB_CACHE so a second run rebuilds nothing.
#
#   tests/lab/build-k8s.sh            build what is missing (run it under `nice -n 10`)
#   tests/lab/build-k8s.sh --print    print the output directory and exit
#
# Outputs: $CACHE/bin/k8s-$K8S_VERSION/{kubeadm,kubelet,kubectl,kube-apiserver,kube-controller-manager,
#          kube-scheduler,kube-proxy} and $CACHE/bin/etcd-$ETCD_VERSION/etcd, each with a .stamp file
#          holding the recipe hash it was built from (a binary is skipped when its stamp matches).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.4}     # newest v1.34.x served here; v1.34 still runs on cgroup v1
ETCD_VERSION=${ETCD_VERSION:-v3.6.5}    # kubeadm v1.34 expects etcd 3.6.5-0 (constants.DefaultEtcdVersion)
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
K8S_CMDS=(kubeadm kubectl kubelet kube-proxy kube-scheduler kube-controller-manager kube-apiserver)

export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/cache"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local GOOS=linux GOARCH=amd64

K8S_OUT="$CACHE/bin/k8s-$K8S_VERSION"
ETCD_OUT="$CACHE/bin/etcd-$ETCD_VERSION"
if [[ "${1:-}" == "--print" ]]; then echo "$K8S_OUT $ETCD_OUT"; exit 0; fi

log() { printf '%s build-k8s: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
GO_VERSION=$(go env GOVERSION)
RECIPE=1   # bump when the way binaries are built changes (flags, ldflags, wrapper module): forces a rebuild
mkdir -p "$K8S_OUT" "$ETCD_OUT" "$GOMODCACHE" "$GOCACHE"

# ---- Kubernetes -------------------------------------------------------------------------------
# k8s.io/kubernetes requires its staging modules (k8s.io/api, ...) at v0.0.0 and replaces them with
# ./staging/... — replaces that do not apply when it is a dependency. A wrapper module therefore
# replaces each staging module with its published twin: Kubernetes v1.X.Y <-> staging v0.X.Y.
build_k8s() {
  local stamp="k8s=$K8S_VERSION go=$GO_VERSION cgo=$CGO_ENABLED recipe=$RECIPE"
  local missing=() c
  for c in "${K8S_CMDS[@]}"; do
    if [[ -x "$K8S_OUT/$c" && "$(cat "$K8S_OUT/$c.stamp" 2>/dev/null)" == "$stamp" ]]; then
      log "$c $K8S_VERSION: cached"
    else
      missing+=("$c")
    fi
  done
  ((${#missing[@]})) || return 0

  local wrap="$CACHE/build/k8s-$K8S_VERSION"
  mkdir -p "$wrap"
  log "resolving k8s.io/kubernetes@$K8S_VERSION"
  local info moddir staging
  info=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
  moddir=$(sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p' <<<"$info")
  staging="v0.${K8S_VERSION#v1.}"
  {
    echo "module omstack.lab/k8sbuild"
    echo
    grep -E '^(go|godebug) ' "$moddir/go.mod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$moddir/go.mod"
    echo ")"
  } >"$wrap/go.mod"
  local pkgs=()
  for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$wrap" && go get "${pkgs[@]/%/@$K8S_VERSION}")

  # The same version stamps hack/lib/version.sh writes: kubeadm derives its defaults from gitVersion.
  local date minor ld=() key val
  date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.info")
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  for kv in "gitVersion=$K8S_VERSION" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" \
            "gitCommit=module-$K8S_VERSION" "buildDate=$date"; do
    key=${kv%%=*}; val=${kv#*=}
    ld+=("-X k8s.io/component-base/version.$key=$val" "-X k8s.io/client-go/pkg/version.$key=$val")
  done
  log "building ${missing[*]} (GOMAXPROCS=$(nproc))"
  local t0=$SECONDS
  (cd "$wrap" && go build -ldflags "-s -w ${ld[*]}" -o "$K8S_OUT/" "${pkgs[@]}")
  for c in "${missing[@]}"; do echo "$stamp" >"$K8S_OUT/$c.stamp"; done
  log "kubernetes binaries built in $((SECONDS - t0)) s"
}

# ---- etcd -------------------------------------------------------------------------------------
# etcd's own main package lives in its root module, which also carries local replaces; the server
# module exports etcdmain.Main, so a three-line main of ours builds the same server.
build_etcd() {
  local stamp="etcd=$ETCD_VERSION go=$GO_VERSION cgo=$CGO_ENABLED recipe=$RECIPE"
  if [[ -x "$ETCD_OUT/etcd" && "$(cat "$ETCD_OUT/etcd.stamp" 2>/dev/null)" == "$stamp" ]]; then
    log "etcd $ETCD_VERSION: cached"; return 0
  fi
  local wrap="$CACHE/build/etcd-$ETCD_VERSION"
  mkdir -p "$wrap"
  cat >"$wrap/main.go" <<'EOF'
// Command etcd runs the etcd server (the lab builds it from go.etcd.io/etcd/server/v3).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  printf 'module omstack.lab/etcdbuild\n\ngo 1.24\n' >"$wrap/go.mod"
  log "resolving go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  (cd "$wrap" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy)
  local t0=$SECONDS
  (cd "$wrap" && go build -ldflags "-s -w" -o "$ETCD_OUT/etcd" .)
  echo "$stamp" >"$ETCD_OUT/etcd.stamp"
  log "etcd built in $((SECONDS - t0)) s"
}

T0=$SECONDS
build_etcd
build_k8s
log "done in $((SECONDS - T0)) s: $K8S_OUT $ETCD_OUT"
