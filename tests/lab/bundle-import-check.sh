#!/usr/bin/env bash
# Can containerd import what the bundle ships, the way the installer will do it on a node?
#   omstack bundle extract BUNDLE --to DIR --trust PUB
#   tar -C DIR/images -cf - . | ctr -n k8s.io images import -
# This machine runs no containerd, so the check starts a throwaway one from the lab rootfs's binaries (Debian's
# containerd 1.6 + ctr, the versions the nodes run) with its own root, state and socket under $CACHE/bundle-check/,
# CRI disabled, no network; it stops it by PID and removes everything at the end.
#
#   tests/lab/bundle-import-check.sh BUNDLE PUBKEY ROOTFS      (tests/lab/bundle.sh --check-import calls it)
set -euo pipefail

BUNDLE=${1:?usage: $0 BUNDLE PUBKEY ROOTFS}
PUB=${2:?usage: $0 BUNDLE PUBKEY ROOTFS}
ROOTFS=${3:?usage: $0 BUNDLE PUBKEY ROOTFS}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
read -r -a OMSTACK <<<"${OMSTACK:-$ROOT/node_modules/.bin/tsx $ROOT/installer/src/cli/main.ts}"
CONTAINERD="$ROOTFS/usr/bin/containerd"
CTR="$ROOTFS/usr/bin/ctr"
log() { printf '%s import-check: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ -x "$CONTAINERD" && -x "$CTR" ]] || die "$CONTAINERD / $CTR missing: the lab rootfs has containerd (tests/lab/lab.sh rootfs)"

D="$CACHE/bundle-check"
rm -rf "$D"; mkdir -p "$D"
CTRD_PID=
cleanup() {
  if [[ -n "$CTRD_PID" ]] && kill -0 "$CTRD_PID" 2>/dev/null; then kill "$CTRD_PID"; wait "$CTRD_PID" 2>/dev/null || true; fi
  # an unpack that failed halfway may leave a snapshot mounted under our root: unmount only mounts below $D
  awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount "$m" || true; done
  rm -rf "$D"
}
trap cleanup EXIT

t=$(date +%s.%N)
"${OMSTACK[@]}" bundle extract "$BUNDLE" --to "$D/bundle" --trust "$PUB" >&2 || die "omstack bundle extract failed"
log "extracted in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: $(ls "$D/bundle/images/blobs/sha256" | wc -l) blobs"

cat >"$D/config.toml" <<EOF
# throwaway containerd for tests/lab/bundle-import-check.sh: private paths, CRI off, nothing listens on the network
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$D/c.sock"
[ttrpc]
  address = "$D/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/opt"
EOF
"$CONTAINERD" --config "$D/config.toml" >"$D/containerd.log" 2>&1 &
CTRD_PID=$!
ctr() { "$CTR" --address "$D/c.sock" "$@"; }
for _ in $(seq 100); do ctr version >/dev/null 2>&1 && break; kill -0 "$CTRD_PID" 2>/dev/null || { tail -20 "$D/containerd.log" >&2; die "containerd exited"; }; sleep 0.1; done
ctr version >/dev/null || die "containerd does not answer on $D/c.sock"
log "containerd $("$CONTAINERD" --version | awk '{print $3}') up (pid $CTRD_PID)"

t=$(date +%s.%N)
tar -C "$D/bundle/images" -cf - . | ctr -n k8s.io images import - >&2 || die "ctr images import failed"
log "tar -C images -cf - . | ctr -n k8s.io images import -: $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

# every image of bundle.json must be there under its exact name, complete and unpacked, with the manifest digest
want=$(node -e 'for (const i of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).images) console.log(i.name + " " + i.digest)' "$D/bundle/bundle.json")
check=$(ctr -n k8s.io images check)
echo "$check" >&2
bad=0
while read -r name digest; do
  line=$(awk -v n="$name" '$1 == n' <<<"$check")
  if [[ -z "$line" ]]; then log "MISSING: $name"; bad=1; continue; fi
  [[ "$line" == *"$digest"* ]] || { log "WRONG DIGEST: $name (want $digest): $line"; bad=1; }
  [[ "$line" == *complete* && "$line" =~ [[:space:]]true[[:space:]]*$ ]] || { log "NOT COMPLETE/UNPACKED: $line"; bad=1; }
done <<<"$want"
extra=$(awk 'NR > 1 { print $1 }' <<<"$check" | grep -vxF -f <(cut -d' ' -f1 <<<"$want") || true)
[[ -z "$extra" ]] || log "note: also imported: $extra"
[[ $bad == 0 ]] || die "containerd did not import every image of the bundle as expected"
log "ok: all $(wc -l <<<"$want") images imported under their bundle names, complete and unpacked"
