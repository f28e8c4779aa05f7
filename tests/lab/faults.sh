#!/usr/bin/env bash
# Installs under faults: runs the same install again and again, each time breaking it at a chosen point — the installer
# SIGKILLed while a given step runs, or a node powered off mid-install — and reports what happened. Every run after a
# fault must resume from the journal; the run after the last fault (tests/lab/run-lab.sh's `install` phase) must
# complete and tests/lab/checks.sh must pass. Called by `run-lab.sh --faults`; alone (under the lab lock, lab up):
#
#   tests/lab/faults.sh --state-dir DIR [--out DIR] [--only NAME,…] [--admin-password-file FILE] -- INSTALL COMMAND…
#
# A fault point is the first progress line "<host>: <step id>: started" whose step id matches a pattern (the
# installer prints one per step and host, docs/install.md); the kill comes DELAY seconds later, so it lands inside
# the step. Patterns are regexes (ERE) over whole step ids; override them with FAULT_STEP_CONTAINERD,
# FAULT_STEP_IMAGES, FAULT_STEP_INIT, FAULT_STEP_JOIN, FAULT_STEP_CNI (e.g. FAULT_STEP_INIT='k8s\.init-control-plane').
# Exit status: 0 every fault fired and behaved as expected, 1 otherwise.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAB="$HERE/lab.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

STATE="" OUT="" ONLY="" PWFILE=""
usage() { echo "usage: $(grep -m1 -o 'tests/lab/faults.sh --state-dir.*' "$0")" >&2; exit 2; }
while (($#)); do
  case $1 in
    --state-dir) STATE=${2:?--state-dir needs a folder}; shift 2 ;;
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    --only) ONLY=${2:?--only needs fault names}; shift 2 ;;
    --admin-password-file) PWFILE=${2:?--admin-password-file needs a file}; shift 2 ;;
    --) shift; break ;;
    *) echo "faults: unknown option '$1'" >&2; usage ;;
  esac
done
INSTALL=("$@")
[[ -n "$STATE" && ${#INSTALL[@]} -gt 0 ]] || usage
OUT=${OUT:-$STATE/../faults}
PWFILE=${PWFILE:-$OUT/admin-password}   # where a generated admin password goes (never into the outputs)
command -v sqlite3 >/dev/null || { echo "faults: sqlite3 is missing (it reads the install journal): apt-get install -y sqlite3" >&2; exit 2; }

# name  kind       step-id pattern                                 host pattern  delay (s)
FAULTS=(
  "containerd-config kill ${FAULT_STEP_CONTAINERD:-host\.containerd-config} [^:[:space:]]+ 0.3"
  "images            kill ${FAULT_STEP_IMAGES:-k8s\.images}                  [^:[:space:]]+ 3"
  "kubeadm-init      kill ${FAULT_STEP_INIT:-k8s\.init}                      [^:[:space:]]+ 5"
  "stop-lab3         stop ${FAULT_STEP_JOIN:-k8s\.join-workers}              lab3           2"
  "join              kill ${FAULT_STEP_JOIN:-k8s\.join-workers}              [^:[:space:]]+ 2"
  "cni               kill ${FAULT_STEP_CNI:-k8s\.cni}                        [^:[:space:]]+ 1"
)
NAMES=$(for f in "${FAULTS[@]}"; do echo "${f%% *}"; done | paste -sd' ')
for n in ${ONLY//,/ }; do
  [[ " $NAMES " == *" $n "* ]] || { echo "faults: unknown fault '$n' in --only; faults: $NAMES" >&2; exit 2; }
done
mkdir -p "$OUT"; chmod 700 "$OUT"; : >"$OUT/summary"; rm -f "$OUT/needs-retry-failed"
RETRYABLE=" E_SSH_CONNECT E_SSH_TIMEOUT E_COMMAND_TIMEOUT E_INSTALL_HOST_LOCKED "   # a plain re-run retries these (docs/install.md)
STOP_DEADLINE=${FAULT_STOP_DEADLINE:-300}    # how long the installer may take to give up on a stopped node
EXTRA=()          # --retry-failed once a fault left a journaled step failure
RUN_N=0 BAD=0

say() { printf 'faults: %s\n' "$*"; printf '%s\n' "$*" >>"$OUT/summary"; }
db() { sqlite3 -readonly "$STATE/install.db" "$1" 2>/dev/null; }
last_run() { db "SELECT id || ' ' || status FROM runs ORDER BY id DESC LIMIT 1"; }
# what the journal holds about the newest run's steps in a STATUS
journal_steps() { db "SELECT host || ' ' || step_id || COALESCE(' ' || error_code, '') FROM steps WHERE run_id = (SELECT MAX(id) FROM runs) AND status = '$1'" | paste -sd',' | sed 's/,/, /g'; }
leftovers() {   # installer commands still running on the nodes after the installer died (ssh does not stop them)
  local n l
  for n in $(lab_nodes); do
    l=$(on "$n" "ps -eo args= | grep -E '^([^ ]*/)?(kubeadm|ctr|tar|systemctl) ' | cut -c1-70 | paste -sd';'" 2>/dev/null)
    [[ -n "$l" ]] && printf '%s: %s; ' "$n" "$l"
  done
}
resume_summary() {   # FILE: how the run treated earlier work
  local f=$1
  printf 'skipped %s, started %s step-host pairs' "$(grep -cE '^[^ ]+: [^ ]+: skipped' "$f")" "$(grep -cE '^[^ ]+: [^ ]+: started' "$f")"
}

# start_until FAULTNAME STEPRE HOSTRE DELAY: starts the install; returns 0 once the point was reached (+DELAY s, the
# installer still running, its PID in IPID), 1 if the installer exited first (its status in IRC).
start_until() {
  local name=$1 stepre=$2 hostre=$3 delay=$4
  RUN_N=$((RUN_N + 1)); IOUT="$OUT/run-$RUN_N-$name.out"; IRC=""
  "${INSTALL[@]}" "${EXTRA[@]}" > >(keep_admin_password "$PWFILE" >"$IOUT") 2>&1 &
  IPID=$! IT0=$(date +%s.%N)
  local re="^(${hostre}): (${stepre}): started"
  while kill -0 "$IPID" 2>/dev/null; do
    if POINT=$(grep -m1 -E "$re" "$IOUT"); then
      sleep "$delay"
      kill -0 "$IPID" 2>/dev/null && return 0
      break
    fi
    sleep 0.1
  done
  wait "$IPID"; IRC=$?
  return 1
}
elapsed() { awk -v a="$IT0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
not_reached() {   # NAME STEPRE: the installer ended before the point: say why, with the step ids it did run
  local ids; ids=$(grep -oE '^[^ ]+: [a-z0-9.-]+: (started|skipped)' "$IOUT" | awk '{print $2}' | tr -d : | awk '!s[$0]++' | paste -sd' ')
  say "[FAIL] $1: the installer exited $IRC before a step matching /$2/ started (steps it ran: ${ids:-none}); $(grep -m2 -E '\[E_[A-Z_]+\]' "$IOUT" | paste -sd' ' | cut -c1-300)"
  say "       output: $IOUT"
  BAD=$((BAD + 1))
}

fault_kill() {   # NAME STEPRE HOSTRE DELAY
  local name=$1 stepre=$2
  if ! start_until "$@"; then not_reached "$name" "$stepre"; return 1; fi
  local at; at=$(elapsed)
  kill -KILL "$IPID"; wait "$IPID" 2>/dev/null; IRC=$?
  local run; run=$(last_run)
  say "[ok]   $name: SIGKILLed the installer (exit $IRC) ${at} s into run ${run%% *}, $4 s after \"${POINT%% (*}\"; $(resume_summary "$IOUT") before that"
  local steps left; steps=$(journal_steps running); left=$(leftovers); left=${left%; }
  say "       journal: run ${run%% *} is '${run#* }', steps running: ${steps:-none}; left running on nodes: ${left:-nothing}"
}

fault_stop() {   # NAME STEPRE HOSTRE DELAY: power a node off mid-step; the installer must say so and exit non-zero
  local name=$1 stepre=$2 node=$3
  if ! start_until "$@"; then not_reached "$name" "$stepre"; return 1; fi
  local at t0=$SECONDS; at=$(elapsed)
  "$LAB" stop "$node" >>"$OUT/lab.out" 2>&1
  local stop_s=$((SECONDS - t0))
  local end=$((SECONDS + STOP_DEADLINE))
  while kill -0 "$IPID" 2>/dev/null && ((SECONDS < end)); do sleep 0.5; done
  if kill -0 "$IPID" 2>/dev/null; then
    kill -KILL "$IPID"; wait "$IPID" 2>/dev/null
    say "[FAIL] $name: stopped $node ${at} s into the run; the installer was still running ${STOP_DEADLINE} s later (killed it): it does not notice a node that went away"
    BAD=$((BAD + 1))
  else
    wait "$IPID"; IRC=$?
    local said; said=$(grep -E "^$node: .*\[E_[A-Z_]+\]" "$IOUT" | head -2 | paste -sd' ' | cut -c1-300)
    [[ -n "$said" ]] || said=$(grep -m2 -E '\[E_[A-Z_]+\]|^error' "$IOUT" | paste -sd' ' | cut -c1-300)
    if ((IRC == 0)); then
      say "[FAIL] $name: stopped $node during \"${POINT%% (*}\", yet the installer exited 0"; BAD=$((BAD + 1))
    else
      say "[ok]   $name: stopped $node (${stop_s} s poweroff) ${at} s into the run, during \"${POINT%% (*}\"; the installer exited $IRC $((SECONDS - t0)) s later: ${said:-(no error line naming $node)}"
      [[ -n "$said" ]] || BAD=$((BAD + 1))
    fi
  fi
  t0=$SECONDS
  "$LAB" start "$node" >>"$OUT/lab.out" 2>&1 || { say "[FAIL] $name: lab.sh start $node failed (see $OUT/lab.out)"; BAD=$((BAD + 1)); return 1; }
  local failed; failed=$(journal_steps failed)
  local codes; codes=$(db "SELECT DISTINCT error_code FROM steps WHERE run_id = (SELECT MAX(id) FROM runs) AND status = 'failed'")
  local c need=""
  for c in $codes; do [[ "$RETRYABLE" == *" $c "* ]] || need=1; done
  if [[ -n "$need" ]]; then
    EXTRA=(--retry-failed); : >"$OUT/needs-retry-failed"   # run-lab.sh's completing run adds it too
    say "       started $node again ($((SECONDS - t0)) s); journal failures: $failed — not all retried by a plain re-run, so the next runs add --retry-failed"
  else
    say "       started $node again ($((SECONDS - t0)) s); journal failures: ${failed:-none} — a plain re-run retries them"
  fi
}

say "$(date -u +%H:%M:%S) faults: state $STATE, install: ${INSTALL[*]}"
for f in "${FAULTS[@]}"; do
  read -r name kind stepre hostre delay <<<"$f"
  [[ -z "$ONLY" || ",$ONLY," == *",$name,"* ]] || continue
  if [[ $kind == kill ]]; then fault_kill "$name" "$stepre" "$hostre" "$delay" || break
  else fault_stop "$name" "$stepre" "$hostre" "$delay" || break; fi
done
say "$RUN_N install runs under faults, $BAD failed; outputs in $OUT"
((BAD == 0))
