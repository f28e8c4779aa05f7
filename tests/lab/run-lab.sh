#!/usr/bin/env bash
# `npm run lab`: the whole install, for real, on the lab — build → up → probe → preflight → plan → install → checks →
# down, one line per phase with its duration, the total at the end, and a full log per run.
#
#   npm run lab [-- OPTIONS]     (= bash tests/lab/run-lab.sh OPTIONS; run as root)
#     --keep          leave the lab up at the end (debugging; run `tests/lab/lab.sh down` yourself, the lock is released)
#     --faults        install under faults first (tests/lab/faults.sh: the installer SIGKILLed at five steps, a node
#                     stopped mid-install), then the completing re-run and the checks
#     --bundle FILE   use this bundle (its signing key: lab-signing.pub beside it) instead of running tests/lab/bundle.sh
#     --no-bundle     develop this script without a bundle: preflight and plan use default versions, the install runs
#                     without --bundle (it cannot work: nothing to push)
#     --lock-wait SEC how long to wait for the lab lock (default 600)
#
# The lab is shared: everything from `up` to `down` runs under `flock /run/omstack-lab.lock` (OMSTACK_LAB_LOCK_HELD=1
# when the caller already holds it). Files of a run: $OMSTACK_LAB_CACHE/lab-runs/<id>/ (configs, facts, plan, journal,
# omstack logs; 0700; the newest 20 are kept, without the extracted bundle), its log: $OMSTACK_LAB_CACHE/logs/lab-run-<id>.log.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB="$HERE/lab.sh"
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
LOCK=${OMSTACK_LAB_LOCK:-/run/omstack-lab.lock}
KEEP_RUNS=${OMSTACK_LAB_KEEP_RUNS:-20}   # run folders kept under lab-runs/
LOCK_WAIT=600 KEEP="" FAULTS="" NO_BUNDLE="" GIVEN_BUNDLE=""
# The omstack CLI from source, as one process (SIGKILL must hit the installer itself, not a wrapper):
# OMSTACK_CMD="node bin/omstack.js" uses the built CLI instead.
read -r -a OMSTACK <<<"${OMSTACK_CMD:-node --import tsx $ROOT/installer/src/cli/main.ts}"
# Preflight checks that fail for reasons of the lab itself, not of the installer (README: "Preflight in the lab")
LAB_BYPASS=(cpu.cores disk.var-free time.sync bundle.containerd-kubernetes)
POD_SUBNET=198.19.128.0/17 SERVICE_SUBNET=198.19.16.0/20    # inside the lab's own 198.19.0.0/16
# The admin password: by default the install generates it and prints it once (keep_admin_password saves it, 0600, for
# checks.sh); OMSTACK_LAB_ADMIN_PASSWORD_KEY=KEY instead writes `KEY: <file>` under cluster: with a password made here.
ADMIN_PASSWORD_KEY=${OMSTACK_LAB_ADMIN_PASSWORD_KEY:-}

usage() { sed -n '2,/^[^#]/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --keep) KEEP=1; shift ;;
    --faults) FAULTS=1; shift ;;
    --no-bundle) NO_BUNDLE=1; shift ;;
    --bundle) GIVEN_BUNDLE=${2:?--bundle needs a file}; shift 2 ;;
    --lock-wait) LOCK_WAIT=${2:?--lock-wait needs seconds}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run-lab: unknown option '$1'" >&2; usage ;;
  esac
done
[[ -z "$GIVEN_BUNDLE" || -r "$GIVEN_BUNDLE" ]] || { echo "run-lab: --bundle $GIVEN_BUNDLE: no such readable file" >&2; exit 2; }
[[ -z "$GIVEN_BUNDLE" ]] || GIVEN_BUNDLE=$(realpath "$GIVEN_BUNDLE")
[[ "$LOCK_WAIT" =~ ^[0-9]+$ ]] || { echo "run-lab: --lock-wait must be whole seconds, found '$LOCK_WAIT'" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "run-lab: must run as root (the lab makes namespaces, mounts and cgroups): found uid $EUID. Run it with sudo." >&2; exit 2; }
for t in jq flock curl; do command -v "$t" >/dev/null || { echo "run-lab: $t is missing: apt-get install -y --no-install-recommends \$(grep -v '^#' tests/lab/packages.txt)" >&2; exit 2; }; done
if [[ -n "$FAULTS" ]]; then command -v sqlite3 >/dev/null || { echo "run-lab: --faults reads the install journal with sqlite3, which is missing: apt-get install -y sqlite3" >&2; exit 2; }; fi

RUN_ID=$(date -u +%Y%m%d-%H%M%S)
RUN_DIR="$CACHE/lab-runs/$RUN_ID"
LOG="$CACHE/logs/lab-run-$RUN_ID.log"
mkdir -p "$RUN_DIR" "$CACHE/logs"; chmod 700 "$CACHE/lab-runs" "$RUN_DIR"
( umask 077; : >"$LOG" )
KNOWN="$RUN_DIR/known_hosts"
BUNDLE="" TIMES=() T_ALL=$SECONDS LAB_UP="" FAILED_PHASE="" NOTE=""
exec 3>&1            # the console; phase output goes to the log
cd "$ROOT" || exit 2
# shellcheck source=lib.sh
LAB="$HERE/lab.sh" source "$HERE/lib.sh"    # keep_admin_password
export OMSTACK_TRUST_DIR="$RUN_DIR/trust"   # the install verifies the bundle against the lab's signing key only

# Runs a command without the lab lock's descriptor: a node it starts would otherwise hold the lock while it runs.
PHASE_PREFIX=lab PHASE_TAIL=12 PHASE_DIR=$RUN_DIR
# shellcheck source=phases.sh
source "$HERE/phases.sh"    # say, without_lock_fd, phase

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$LAB_UP" ]]; then
    if [[ -n "$KEEP" ]]; then
      say "lab: down       skipped (--keep): the lab stays up and the lock is released — run tests/lab/lab.sh down when done; others wait for this lab"
    else
      phase down phase_down || rc=1
    fi
  fi
  # the install's extracted copy of the bundle (~0.8 GB per run) goes; the journal, plan and logs stay. Only the
  # newest $KEEP_RUNS run folders are kept (their logs under logs/ stay too).
  [[ -n "$KEEP" ]] || rm -rf "$RUN_DIR/state/bundles"
  ls -1d "$CACHE"/lab-runs/*/ 2>/dev/null | sort | head -n "-$KEEP_RUNS" | while read -r old; do rm -rf "$old"; done
  say "lab: total      $((SECONDS - T_ALL)) s ($(IFS=' '; echo "${TIMES[*]}")) — $([[ $rc == 0 ]] && echo PASSED || echo "FAILED${FAILED_PHASE:+ at $FAILED_PHASE}")"
  say "lab: log $LOG; files in $RUN_DIR"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- phases -----------------------------------------------------------------------------------------------------
phase_build() {
  nice -n 10 "$HERE/build-k8s.sh" || { NOTE="tests/lab/build-k8s.sh failed (see the log)"; return 1; }
  nice -n 10 "$HERE/build-images.sh" || { NOTE="tests/lab/build-images.sh failed (see the log)"; return 1; }
  if [[ -n "$NO_BUNDLE" ]]; then NOTE="binaries and images ready; no bundle (--no-bundle)"; return 0; fi
  local pub
  if [[ -n "$GIVEN_BUNDLE" ]]; then
    BUNDLE=$GIVEN_BUNDLE pub="$(dirname "$BUNDLE")/lab-signing.pub"
  else
    [[ -x "$HERE/bundle.sh" ]] || { NOTE="tests/lab/bundle.sh does not exist yet: it must build \$OMSTACK_LAB_CACHE/bundle/omstack-*-amd64.tar and lab-signing.pub (use --no-bundle to try the other phases)"; return 1; }
    nice -n 10 "$HERE/bundle.sh" || { NOTE="tests/lab/bundle.sh failed: $(grep -m1 ERROR "$RUN_DIR/phase-build.out" 2>/dev/null || echo 'see the log')"; return 1; }
    read -r BUNDLE pub < <("$HERE/bundle.sh" --print)
  fi
  [[ -r "$BUNDLE" ]] || { NOTE="no bundle at $BUNDLE (tests/lab/bundle.sh --print)"; return 1; }
  [[ -r "$pub" ]] || { NOTE="no signing key $pub beside the bundle: the install cannot verify it"; return 1; }
  mkdir -p "$OMSTACK_TRUST_DIR"; cp "$pub" "$OMSTACK_TRUST_DIR/"
  NOTE="$(basename "$BUNDLE") ($(du -m "$BUNDLE" | cut -f1) MB)"
}

phase_up() {
  local t0=$SECONDS
  if [[ "${OMSTACK_LAB_LOCK_HELD:-}" != 1 ]]; then
    exec {LOCK_FD}>>"$LOCK"
    flock -w "$LOCK_WAIT" "$LOCK_FD" || { NOTE="the lab is in use: $LOCK still held by another run after $LOCK_WAIT s (try later, or --lock-wait)"; return 1; }
  fi
  local waited=$((SECONDS - t0))
  # the nodes must not inherit the lock's descriptor: they would hold the lock for as long as they run
  without_lock_fd "$LAB" up --nodes 3 || { NOTE="lab.sh up failed (a lab left up by --keep? run tests/lab/lab.sh down)"; return 1; }
  LAB_UP=1
  # count every packet the nodes send towards an address outside the lab, from here to the checks
  "$HERE/offline-guard.sh" arm >/dev/null || { NOTE="offline-guard.sh arm failed (nftables installed? tests/lab/packages.txt)"; return 1; }
  NOTE="3 nodes SSH-ready (waited $waited s for the lab lock); offline guard armed"
}

hosts_yaml() {   # the lab's hosts, as inventory.md writes them
  local i
  for i in 1 2 3; do
    printf '  - name: lab%s\n    address: 198.19.0.1%s\n    labels: {rack: lab-%s}\n' "$i" "$i" "$([[ $i == 1 ]] && echo a || echo b)"
  done
}
write_configs() {
  local key="$CACHE/ssh/id_ed25519"
  { echo "# the lab's inventory (docs/inventory.md), written by tests/lab/run-lab.sh for run $RUN_ID"
    printf 'defaults:\n  user: root\n  identityFile: %s\nhosts:\n' "$key"; hosts_yaml; } >"$RUN_DIR/inventory.yaml"
  # the admin password, 0600, never printed; checks.sh logs in with it. Given to the install through the config when
  # it has a key for it; else the install generates one, prints it once, and keep_admin_password saves it here.
  [[ -z "$ADMIN_PASSWORD_KEY" ]] || ( umask 077; head -c 18 /dev/urandom | base64 >"$RUN_DIR/admin-password" )
  { echo "# the lab's install config (docs/wizard.md), written by tests/lab/run-lab.sh for run $RUN_ID"
    echo "apiVersion: omstack.io/v1"
    echo "kind: Install"
    echo "cluster:"
    echo "  name: omstack-lab"
    echo "  controlPlanes: 1"
    echo "  podSubnet: $POD_SUBNET             # the lab's own address space: no traffic leaves its namespaces"
    echo "  serviceSubnet: $SERVICE_SUBNET"
    [[ -n "$ADMIN_PASSWORD_KEY" ]] && echo "  $ADMIN_PASSWORD_KEY: $RUN_DIR/admin-password"
    [[ -n "$BUNDLE" ]] && echo "  bundle: $BUNDLE"
    echo "  stateDir: $RUN_DIR/state"
    echo "  bypassChecks: [$(IFS=,; echo "${LAB_BYPASS[*]}" | sed 's/,/, /g')]   # limits of the lab's nodes (README: Preflight in the lab)"
    printf 'defaults:\n  user: root\n  identityFile: %s\nhosts:\n' "$key"; hosts_yaml; } >"$RUN_DIR/omstack.yaml"
  chmod 600 "$RUN_DIR/inventory.yaml" "$RUN_DIR/omstack.yaml"
}

omstack() { echo "+ omstack $*" >&2; "${OMSTACK[@]}" "$@"; }
# the lab's service specs (tests/lab/services: the echo service, whose chart the lab bundle carries) go with the bundle
bundle_flags() { [[ -n "$BUNDLE" ]] && printf '%s\n' --bundle "$BUNDLE" --services "$HERE/services"; }
ignore_flags() { local c; for c in "${LAB_BYPASS[@]}"; do printf '%s\n' --ignore "$c"; done; }

phase_probe() {
  write_configs
  omstack probe -i "$RUN_DIR/inventory.yaml" --accept-new-host-keys --known-hosts "$KNOWN" -o json \
    --log-file "$RUN_DIR/omstack-probe.log" >"$RUN_DIR/facts.json" || { NOTE="omstack probe failed: $(grep -m1 -E 'error|E_[A-Z_]+' "$RUN_DIR/phase-probe.out" 2>/dev/null)"; return 1; }
  NOTE=$(jq -r '[.hosts[] | "\(.host) \(if .reachable then "ok" else "UNREACHABLE" end)"] | join(", ")' "$RUN_DIR/facts.json")
}

phase_preflight() {
  local -a b i; mapfile -t b < <(bundle_flags); mapfile -t i < <(ignore_flags)
  omstack preflight -i "$RUN_DIR/inventory.yaml" --facts "$RUN_DIR/facts.json" "${b[@]}" "${i[@]}" -o json \
    --log-file "$RUN_DIR/omstack-preflight.log" >"$RUN_DIR/preflight.json"
  local rc=$?
  if [[ -s "$RUN_DIR/preflight.json" ]]; then
    NOTE=$(jq -r '"\(.summary.pass) passed, \(.summary.warn) warnings, \(.summary.bypassed) bypassed (\(.bypassedChecks | join(", "))), \(.summary.fail) failed" +
      (if .summary.fail > 0 then ": " + ([.outcomes[] | select(.status == "fail") | "\(.host) \(.checkId) (found \(.found))"] | join("; ")) else "" end) +
      "; warnings: " + ([.outcomes[] | select(.status == "warn") | .checkId] | unique | join(", "))' "$RUN_DIR/preflight.json")
  else NOTE="omstack preflight exited $rc without a report (see the log)"; fi
  return "$rc"
}

phase_plan() {
  local -a b i; mapfile -t b < <(bundle_flags); mapfile -t i < <(ignore_flags)
  omstack plan -i "$RUN_DIR/inventory.yaml" --facts "$RUN_DIR/facts.json" "${b[@]}" "${i[@]}" -o yaml \
    --save "$RUN_DIR/plan.json" --log-file "$RUN_DIR/omstack-plan.log" >"$RUN_DIR/plan.yaml" || { NOTE="omstack plan failed (see the log)"; return 1; }
  NOTE=$(jq -r '[.nodes[] | "\(.host) \(.roles | join("+"))"] | join(", ")' "$RUN_DIR/plan.json")
}

install_cmd() {   # the same install every time: the first run, the re-runs after faults
  printf '%s\n' "${OMSTACK[@]}" install -c "$RUN_DIR/omstack.yaml" --yes --accept-new-host-keys --known-hosts "$KNOWN" \
    --state-dir "$RUN_DIR/state" --log-file "$RUN_DIR/omstack-install.log"
  bundle_flags
}
phase_install() {
  local -a cmd; mapfile -t cmd < <(install_cmd)
  local retry=""   # a fault left a journaled step failure (faults.sh said so): the operator's next run has --retry-failed
  [[ -e "$RUN_DIR/faults/needs-retry-failed" ]] && { cmd+=(--retry-failed); retry=" (with --retry-failed: a fault left a step failure)"; }
  echo "+ ${cmd[*]}"
  "${cmd[@]}" 2>&1 | keep_admin_password "$RUN_DIR/admin-password" | tee "$RUN_DIR/install-final.out"
  local rc=${PIPESTATUS[0]}
  local steps; steps=$(grep -cE ': (started|skipped)' "$RUN_DIR/install-final.out")
  if ((rc == 0)); then NOTE="$(grep -m1 -E '^install run [0-9]+ ' "$RUN_DIR/install-final.out" | cut -d';' -f1), $steps step-host events$retry"
  else NOTE="exit $rc: $(grep -m2 -E '\[E_[A-Z_]+\]|^error' "$RUN_DIR/install-final.out" | paste -sd' ' | cut -c1-400)"; fi
  return "$rc"
}

phase_faults() {
  local -a cmd; mapfile -t cmd < <(install_cmd)
  without_lock_fd "$HERE/faults.sh" --state-dir "$RUN_DIR/state" --out "$RUN_DIR/faults" \
    --admin-password-file "$RUN_DIR/admin-password" -- "${cmd[@]}" | tee -a /dev/fd/3
  local rc=${PIPESTATUS[0]}
  NOTE=$(tail -1 "$RUN_DIR/faults/summary" 2>/dev/null)
  return "$rc"
}

phase_checks() {
  local pw=(); [[ -s "$RUN_DIR/admin-password" ]] && pw=(--admin-password-file "$RUN_DIR/admin-password")
  "$HERE/checks.sh" --plan "$RUN_DIR/plan.json" "${pw[@]}" | tee -a /dev/fd/3
  local rc=${PIPESTATUS[0]}
  lab_extra_checks | tee -a /dev/fd/3
  ((PIPESTATUS[0] == 0)) || rc=1
  NOTE=$(grep -E '^checks: [0-9]+ passed' "$RUN_DIR/phase-checks.out" 2>/dev/null | tail -1 | sed 's/^checks: //')
  return "$rc"
}

# Two checks of the install itself, in checks.sh's line format: the service the plan enabled runs from its bundled chart,
# and nothing tried to leave the lab during the whole install (tests/lab/offline-guard.sh).
lab_extra_checks() {
  local rc=0 out kc="$RUN_DIR/state/kubeconfig" kubectl="$CACHE/bin/k8s-v1.34.4/kubectl"
  if out=$("$kubectl" --kubeconfig "$kc" -n omstack-echo get deploy echo -o jsonpath='{.status.readyReplicas}/{.spec.replicas} ready, image {.spec.template.spec.containers[0].image}' 2>&1) && [[ $out == [1-9]* ]]; then
    echo "checks: [ok]   services       echo (helm release from the bundle's omstack-echo chart): $out"
  else echo "checks: [FAIL] services       the echo service is not running: $out"; rc=1; fi
  if out=$("$HERE/offline-guard.sh" report 2>&1); then echo "checks: [ok]   offline        ${out#offline-guard: }"
  else echo "checks: [FAIL] offline        $(echo "$out" | paste -sd' ')"; rc=1; fi
  return "$rc"
}

phase_down() {
  "$LAB" down || { NOTE="lab.sh down failed: check tests/lab/lab.sh status"; return 1; }
  LAB_UP=""
  NOTE="nodes stopped, everything lab.sh up made removed"
}

say "lab: run $RUN_ID: log $LOG"
phase build phase_build || exit 1
phase up phase_up || exit 1
phase probe phase_probe || exit 1
phase preflight phase_preflight || exit 1
phase plan phase_plan || exit 1
if [[ -n "$FAULTS" ]]; then phase faults phase_faults || exit 1; fi
phase install phase_install || exit 1
phase checks phase_checks || exit 1
exit 0
