#!/usr/bin/env bash
# Builds the container images kubeadm needs as OCI archives, without Docker or a registry: each image is
# one uncompressed layer holding static binaries we built (tests/lab/build-k8s.sh, CoreDNS, our pause),
# plus, for kube-proxy, the node rootfs's iptables and the libraries it loads (so it runs as root: chroot, ldd).
#
#   tests/lab/build-images.sh [NAME…]  build what is missing into $CACHE/images/*.tar (NAME: kube-apiserver, etcd, pause…)
#   tests/lab/build-images.sh --list   print "archive-path image-ref" lines
#
# Import on a node: ctr -n k8s.io images import ARCHIVE (the ref comes from the index annotation).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.5}
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.1}    # kubeadm v1.34 constants.CoreDNSVersion
PAUSE_TAG=${PAUSE_TAG:-3.10.1}                 # kubeadm v1.34 constants.PauseVersion
REG=registry.k8s.io
read -r K8S_BIN ETCD_BIN < <("$HERE/build-k8s.sh" --print)
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/cache"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local
OUT="$CACHE/images"
log() { printf '%s build-images: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

images() {   # archive-name ref
  cat <<EOF
kube-apiserver $REG/kube-apiserver:$K8S_VERSION
kube-controller-manager $REG/kube-controller-manager:$K8S_VERSION
kube-scheduler $REG/kube-scheduler:$K8S_VERSION
kube-proxy $REG/kube-proxy:$K8S_VERSION
etcd $REG/etcd:${ETCD_VERSION#v}-0
coredns $REG/coredns/coredns:$COREDNS_VERSION
pause $REG/pause:$PAUSE_TAG
echo omstack.lab/echo:v1
EOF
}
if [[ "${1:-}" == "--list" ]]; then images | while read -r n ref; do echo "$OUT/$n.tar $ref"; done; exit 0; fi

build_small_bins() {
  local b="$CACHE/bin/coredns-$COREDNS_VERSION"
  if [[ ! -x "$b/coredns" ]]; then
    log "building coredns $COREDNS_VERSION"
    mkdir -p "$b"; (cd /tmp && GOBIN="$b" go install -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION")
  fi
  if [[ ! -x "$CACHE/bin/pause/pause" || "$HERE/pause/main.go" -nt "$CACHE/bin/pause/pause" ]]; then
    log "building pause"
    mkdir -p "$CACHE/bin/pause"; (cd "$HERE/pause" && go build -ldflags "-s -w" -o "$CACHE/bin/pause/pause" .)
  fi
  if [[ ! -x "$CACHE/bin/echo/echo" || "$HERE/echo/main.go" -nt "$CACHE/bin/echo/echo" ]]; then
    log "building echo (the lab's test workload)"
    mkdir -p "$CACHE/bin/echo"; (cd "$HERE/echo" && go build -ldflags "-s -w" -o "$CACHE/bin/echo/echo" .)
  fi
}

json_digest() { sha256sum "$1" | cut -d' ' -f1; }

# Writes an OCI image layout for the directory tree $2 as one layer and packs it into $OUT/$1.tar.
write_image() {
  local name=$1 tree=$2 ref=$3 entry=$4 lay; lay=$(mktemp -d)
  mkdir -p "$lay/blobs/sha256"
  tar -C "$tree" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$lay/layer.tar" .
  local ld ls; ld=$(json_digest "$lay/layer.tar"); ls=$(stat -c %s "$lay/layer.tar")
  mv "$lay/layer.tar" "$lay/blobs/sha256/$ld"
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"omstack tests/lab/build-images.sh"}]}' \
    "$entry" "$ld" >"$lay/config.json"
  local cd cs; cd=$(json_digest "$lay/config.json"); cs=$(stat -c %s "$lay/config.json")
  mv "$lay/config.json" "$lay/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$ld" "$ls" >"$lay/manifest.json"
  local md ms; md=$(json_digest "$lay/manifest.json"); ms=$(stat -c %s "$lay/manifest.json")
  mv "$lay/manifest.json" "$lay/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$md" "$ms" "$ref" "${ref##*:}" >"$lay/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"
  tar -C "$lay" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$OUT/$name.tar.tmp" oci-layout index.json blobs
  mv "$OUT/$name.tar.tmp" "$OUT/$name.tar"
  echo "$ref sha256:$md" >"$OUT/$name.ref"
  rm -rf "$lay"
}

base_tree() {   # the few files every image gets
  local t=$1
  mkdir -p "$t/etc" "$t/tmp" "$t/usr/local/bin" "$t/var/run"; chmod 1777 "$t/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$t/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$t/etc/group"
  printf 'hosts: files dns\n' >"$t/etc/nsswitch.conf"
}

# kube-proxy runs iptables-restore/iptables-save inside its container: copy Debian's nft-backed iptables
# (the backend the node's own iptables and the CNI plugins use) and its shared-library closure.
iptables_tree() {
  local t=$1 rootfs=$2 f
  local files=(/usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/conntrack)
  for f in "$rootfs"/usr/lib/x86_64-linux-gnu/xtables/*.so; do files+=("${f#"$rootfs"}"); done
  local libs; libs=$(for f in "${files[@]}"; do chroot "$rootfs" ldd "$f" 2>/dev/null; done | grep -o '/[^ ]*' | sort -u)
  for f in "${files[@]}" $libs; do
    mkdir -p "$t$(dirname "$f")"; cp -aL "$rootfs$f" "$t$f"
  done
  mkdir -p "$t/lib64"; [[ -e "$t/lib64/ld-linux-x86-64.so.2" ]] || cp -aL "$rootfs/lib64/ld-linux-x86-64.so.2" "$t/lib64/"
  for f in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf xtables-nft-multi "$t/usr/sbin/$f"
    ln -sf xtables-nft-multi "$t/usr/sbin/${f/tables/tables-nft}"
    ln -sf xtables-legacy-multi "$t/usr/sbin/${f/tables/tables-legacy}"
  done
}

[[ " $* " == "  " || " $* " =~ \ (coredns|pause|echo)\  ]] && build_small_bins
mkdir -p "$OUT"
ONLY=" $* "
images | while read -r name ref; do
  [[ "$ONLY" == "  " || "$ONLY" == *" $name "* ]] || continue
  if [[ -f "$OUT/$name.tar" && "$(cut -d' ' -f1 "$OUT/$name.ref" 2>/dev/null)" == "$ref" ]]; then log "$ref: cached"; continue; fi
  tree=$(mktemp -d); base_tree "$tree"
  case $name in
    kube-*) cp "$K8S_BIN/$name" "$tree/usr/local/bin/"; entry="[\"/usr/local/bin/$name\"]" ;;
    etcd) cp "$ETCD_BIN/etcd" "$tree/usr/local/bin/"; entry='["/usr/local/bin/etcd"]' ;;
    coredns) cp "$CACHE/bin/coredns-$COREDNS_VERSION/coredns" "$tree/coredns"; entry='["/coredns"]' ;;
    pause) cp "$CACHE/bin/pause/pause" "$tree/pause"; entry='["/pause"]' ;;
    echo) cp "$CACHE/bin/echo/echo" "$tree/echo"; entry='["/echo"]' ;;
  esac
  if [[ $name == kube-proxy ]]; then
    rootfs=${LAB_ROOTFS:-$("$HERE/lab.sh" rootfs)}    # the node rootfs (built if missing): its iptables
    iptables_tree "$tree" "$rootfs"
  fi
  write_image "$name" "$tree" "$ref" "$entry"
  rm -rf "$tree"
  log "$ref -> $OUT/$name.tar ($(du -m "$OUT/$name.tar" | cut -f1) MB)"
done
