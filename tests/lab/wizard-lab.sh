#!/usr/bin/env bash
# The install wizard, for real, on the lab: `omstack install` (no --yes) runs in tmux and is walked with send-keys the
# way an IT person would, starting from no file at all — Welcome (the cluster name typed) → Hosts (lab1..lab3 typed
# one by one, root, the lab key) → Probe (host keys shown as fingerprints, compared with each node's own key,
# accepted) → Preflight (the lab's four known failing checks bypassed with b + y; any other failure fails the run) →
# Plan review (n: the lab's pod and service networks; the generated admin password, shown once, is saved 0600 for
# checks.sh and redacted from every capture) → Install (the live progress view) → Done. Every screen is captured.
# Then tests/lab/checks.sh against the cluster, then the same install from the saved omstack.yaml with --yes, which
# must skip every step with the same plan. One line per phase with its duration; exit 1 on any failure.
#
#   tests/lab/wizard-lab.sh [OPTIONS]      (run as root)
#     --size COLSxROWS  the terminal (default 100x30; the wizard needs at least 80x24)
#     --screens DIR     also write the captured screens there (NN-name.txt; tests/lab/wizard-screens/<size> for docs)
#     --bundle FILE     the bundle (default $OMSTACK_LAB_CACHE/bundle/omstack-*-amd64.tar; lab-signing.pub beside it)
#     --keep            leave the lab up (the lock is released: take it before using or downing the lab)
#     --lock-wait SEC   how long to wait for the lab lock (default 1800)
#
# Under `flock /run/omstack-lab.lock` from `lab.sh up` to `lab.sh down` (OMSTACK_LAB_LOCK_HELD=1 when the caller
# holds it). OMSTACK_CMD overrides the CLI (default `node bin/omstack.js`, the built one). Files of a run:
# $OMSTACK_LAB_CACHE/lab-runs/wizard-<id>/ (0700): omstack.yaml (the wizard's answers), known_hosts,
# screens/, state/, plan.json, admin-password (0600), logs; the run's log: $OMSTACK_LAB_CACHE/logs/wizard-lab-<id>.log.
set -uo pipefail
export LC_ALL=C.UTF-8   # ${#line} counts characters; the wizard draws UTF-8
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB="$HERE/lab.sh"
CACHE=${OMSTACK_LAB_CACHE:-/var/cache/omstack-lab}
LOCK=${OMSTACK_LAB_LOCK:-/run/omstack-lab.lock}
read -r -a OMSTACK <<<"${OMSTACK_CMD:-node $ROOT/bin/omstack.js}"
# The lab's nodes fail these for reasons of the lab, not of the installer (README: "Preflight in the lab"); any other
# failing check stops the run rather than being bypassed.
LAB_BYPASS=(bundle.containerd-kubernetes cpu.cores disk.var-free time.sync)
POD_SUBNET=198.19.128.0/17 SERVICE_SUBNET=198.19.16.0/20   # inside the lab's own 198.19.0.0/16
CLUSTER=omstack-lab
SIZE=100x30 SCREENS_OUT="" BUNDLE="" KEEP="" LOCK_WAIT=1800

usage() { sed -n '2,/^[^#]/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --size) SIZE=${2:?--size needs COLSxROWS}; shift 2 ;;
    --screens) SCREENS_OUT=${2:?--screens needs a folder}; shift 2 ;;
    --bundle) BUNDLE=${2:?--bundle needs a file}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --lock-wait) LOCK_WAIT=${2:?--lock-wait needs seconds}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "wizard-lab: unknown option '$1'" >&2; usage ;;
  esac
done
[[ "$SIZE" =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "wizard-lab: --size must be COLSxROWS like 100x30, found '$SIZE'" >&2; exit 2; }
COLS=${BASH_REMATCH[1]} ROWS=${BASH_REMATCH[2]}
((COLS >= 80 && ROWS >= 24)) || { echo "wizard-lab: --size $SIZE is below the wizard's 80x24" >&2; exit 2; }
[[ "$LOCK_WAIT" =~ ^[0-9]+$ ]] || { echo "wizard-lab: --lock-wait must be whole seconds, found '$LOCK_WAIT'" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "wizard-lab: must run as root (the lab makes namespaces, mounts and cgroups): found uid $EUID" >&2; exit 2; }
for t in tmux jq flock sqlite3 ssh-keygen; do command -v "$t" >/dev/null || { echo "wizard-lab: $t is missing: apt-get install -y --no-install-recommends \$(grep -v '^#' tests/lab/packages.txt)" >&2; exit 2; }; done
if [[ -z "$BUNDLE" ]]; then BUNDLE=$(ls -1 "$CACHE"/bundle/omstack-*-amd64.tar 2>/dev/null | tail -1); fi
[[ -n "$BUNDLE" && -r "$BUNDLE" ]] || { echo "wizard-lab: no bundle (${BUNDLE:-none under $CACHE/bundle}): build it with tests/lab/bundle.sh or pass --bundle FILE" >&2; exit 2; }
BUNDLE=$(realpath "$BUNDLE") PUB="$(dirname "$(realpath "$BUNDLE")")/lab-signing.pub"
[[ -r "$PUB" ]] || { echo "wizard-lab: no signing key $PUB beside the bundle" >&2; exit 2; }
KEY="$CACHE/ssh/id_ed25519"
[[ -r "$KEY" ]] || { echo "wizard-lab: no lab key $KEY (tests/lab/lab.sh up makes it)" >&2; exit 2; }
if [[ "${OMSTACK[*]}" == "node $ROOT/bin/omstack.js" ]]; then
  newer=$(find "$ROOT/installer/src" -name '*.ts*' ! -name '*.test.*' -newer "$ROOT/installer/dist/cli/main.js" 2>/dev/null | head -3 | paste -sd' ')
  [[ -z "$newer" ]] || echo "wizard-lab: note: installer/dist is older than $newer (npm run build, or OMSTACK_CMD='node --import tsx installer/src/cli/main.ts')" >&2
fi

RUN_ID=$(date -u +%Y%m%d-%H%M%S)
RUN="$CACHE/lab-runs/wizard-$RUN_ID"
LOG="$CACHE/logs/wizard-lab-$RUN_ID.log"
mkdir -p "$RUN/screens" "$CACHE/logs"; chmod 700 "$CACHE/lab-runs" "$RUN"
( umask 077; : >"$LOG" )
[[ -z "$SCREENS_OUT" ]] || { mkdir -p "$SCREENS_OUT" && rm -f "$SCREENS_OUT"/[0-9][0-9]-*.txt; }
CONFIG="$RUN/omstack.yaml" KNOWN="$RUN/known_hosts" STATE="$RUN/state" PWFILE="$RUN/admin-password"
SOCK="omstack-wizard-lab-$$" SESSION=wizard
TIMES=() T_ALL=$SECONDS LAB_UP="" FAILED_PHASE="" NOTE="" PW="" SHOTS=0 LOCK_FD=""
exec 3>&1
cd "$ROOT" || exit 2

PHASE_PREFIX=wizard-lab PHASE_TAIL=30 PHASE_DIR=$RUN
# shellcheck source=phases.sh
source "$HERE/phases.sh"    # say, without_lock_fd, phase
# a failed screen phase leaves the screen it saw (redacted) in its output
phase_failed() { [[ -z "$(screen_now)" ]] || { echo "--- the screen at the failure:"; screen_now | redact; } >>"$1"; }

tmux_() { tmux -L "$SOCK" "$@"; }
screen_now() { tmux_ capture-pane -p -t "$SESSION" 2>/dev/null; }
# Never a secret in a capture: the admin password, once seen, is replaced in everything saved or printed.
redact() { if [[ -n "$PW" ]]; then local s; s=$(cat); printf '%s\n' "${s//"$PW"/<redacted>}"; else cat; fi; }
# wait_for REGEX WHAT [SECONDS]: polls the pane (never a fixed sleep) until grep -E finds REGEX; SCREEN holds it.
wait_for() {
  local re=$1 what=$2 deadline=$((SECONDS + ${3:-60}))
  while ((SECONDS < deadline)); do
    SCREEN=$(screen_now)
    grep -Eq -- "$re" <<<"$SCREEN" && return 0
    sleep 0.2
  done
  echo "waited ${3:-60} s for $what; the screen shows:"; redact <<<"$SCREEN"
  NOTE="no $what after ${3:-60} s (screen in $RUN/phase-*.out)"
  return 1
}
# shot NAME: saves the current SCREEN as NN-NAME.txt (redacted); each line must fit the terminal's width.
shot() {
  SHOTS=$((SHOTS + 1))
  local f; f=$(printf '%02d-%s.txt' "$SHOTS" "$1")
  redact <<<"$SCREEN" >"$RUN/screens/$f"
  [[ -z "$SCREENS_OUT" ]] || cp "$RUN/screens/$f" "$SCREENS_OUT/$f"
  local wide=0 line   # characters, not bytes (the frame's rules are 3-byte UTF-8)
  while IFS= read -r line; do ((${#line} <= COLS)) || wide=$((wide + 1)); done <"$RUN/screens/$f"
  ((wide == 0)) || { echo "$f: $wide line(s) wider than $COLS columns"; NOTE="$f has lines wider than the terminal"; return 1; }
}
keys() { tmux_ send-keys -t "$SESSION" "$@"; }          # named keys: Enter, BSpace, Up, PageDown
type_text() { tmux_ send-keys -t "$SESSION" -l "$1"; }  # literal text

finish() {
  local rc=$?
  trap - EXIT INT TERM
  tmux_ kill-server 2>/dev/null
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"   # the private server's socket file
  if [[ -n "$LAB_UP" ]]; then
    if [[ -n "$KEEP" ]]; then say "wizard-lab: down       skipped (--keep): the lab stays up, the lock is released — run tests/lab/lab.sh down when done"
    else phase down phase_down || rc=1; fi
  fi
  [[ -n "$KEEP" ]] || rm -rf "$STATE/bundles"   # the install's extracted bundle (~0.8 GB); journal, logs, plan stay
  say "wizard-lab: total      $((SECONDS - T_ALL)) s ($(IFS=' '; echo "${TIMES[*]}")) — $([[ $rc == 0 ]] && echo PASSED || echo "FAILED${FAILED_PHASE:+ at $FAILED_PHASE}")"
  say "wizard-lab: log $LOG; screens and files in $RUN"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- phases -----------------------------------------------------------------------------------------------------
phase_up() {
  local t0=$SECONDS
  if [[ "${OMSTACK_LAB_LOCK_HELD:-}" != 1 ]]; then
    exec {LOCK_FD}>>"$LOCK"
    flock -w "$LOCK_WAIT" "$LOCK_FD" || { NOTE="the lab is in use: $LOCK still held after $LOCK_WAIT s"; return 1; }
  fi
  local waited=$((SECONDS - t0))
  without_lock_fd "$LAB" up --nodes 3 || { NOTE="lab.sh up failed (a lab left up by --keep? run tests/lab/lab.sh down under the lock)"; return 1; }
  LAB_UP=1
  NOTE="3 nodes SSH-ready (waited $waited s for the lab lock)"
}

phase_welcome() {
  mkdir -p "$RUN/trust"; cp "$PUB" "$RUN/trust/"
  local cmd; cmd=$(printf '%q ' "${OMSTACK[@]}" install -c "$CONFIG" --bundle "$BUNDLE" --trust "$PUB" --services "$HERE/services" \
    --state-dir "$STATE" --known-hosts "$KNOWN" --log-file "$RUN/omstack-wizard.log")
  echo "+ $cmd"
  # a person's terminal: UTF-8, colours on (capture-pane -p drops them); the shell says how omstack ended
  without_lock_fd tmux_ new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
    "cd $(printf '%q' "$ROOT") && env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color OMSTACK_TRUST_DIR=$(printf '%q' "$RUN/trust") $cmd; echo \"omstack exited: \$?\"; sleep 3600" ||
    { NOTE="tmux new-session failed"; return 1; }
  wait_for 'step 1/7: Welcome' "the Welcome screen" 60 || return 1
  wait_for "Bundle: omstack .*\(amd64\)" "the bundle read on Welcome" 60 || return 1
  wait_for 'Cluster name: omstack' "the offered cluster name" 10 || return 1
  shot welcome || return 1
  local n; for ((n = 0; n < 10; n++)); do keys BSpace; done
  type_text "$CLUSTER"
  wait_for "Cluster name: $CLUSTER" "the typed cluster name" 20 || return 1
  shot welcome-name || return 1
  NOTE="$(grep -m1 -o 'Bundle: .*' <<<"$SCREEN" | sed 's/ *$//'); cluster name $CLUSTER typed"
  keys Enter
}

phase_hosts() {
  wait_for 'step 2/7: Hosts' "the Hosts screen" || return 1
  wait_for '\[0 so far\]' "an empty host list" 10 || return 1
  shot hosts-empty || return 1
  local i
  for i in 1 2 3; do
    type_text "lab$i=198.19.0.1$i"; keys Enter
    wait_for "\[$i so far\]" "lab$i in the list" 20 || return 1
  done
  grep -Eq 'lab3 +198\.19\.0\.13' <<<"$SCREEN" || { NOTE="lab3 is not listed"; return 1; }
  shot hosts-added || return 1
  keys Enter                                        # an empty line: on to the SSH settings
  wait_for 'SSH user for all hosts: root' "the SSH user prompt (root)" 20 || return 1
  keys Enter
  wait_for 'How does root log in\?' "the login choice" 20 || return 1
  shot hosts-login || return 1
  keys Enter                                        # "a private key file" (first item)
  wait_for 'Private key file: ' "the key file prompt" 20 || return 1
  local n; for ((n = 0; n < 40; n++)); do keys BSpace; done   # clear the offered ~/.ssh/id_ed25519
  wait_for 'Private key file: *$|Private key file: █' "the key file prompt to be empty" 20 || return 1
  type_text "$KEY"
  wait_for "Private key file: $KEY" "the typed key path" 20 || return 1
  shot hosts-key || return 1
  keys Enter
  wait_for 'Bastion \(jump host\): ' "the bastion prompt" 20 || return 1
  grep -q 'cannot be used' <<<"$SCREEN" && { NOTE="the key was refused: $(grep -m1 'cannot be used' <<<"$SCREEN")"; return 1; }
  shot hosts-bastion || return 1
  keys Enter                                        # no bastion: this machine reaches the nodes directly
  NOTE="lab1..lab3 typed one by one; root, key $KEY, no bastion"
}

phase_probe() {
  wait_for 'step 3/7: Probe' "the Probe screen" 30 || return 1
  wait_for 'a accept keys|r retry failed|Enter continue' "the probe to settle (its key hints)" 120 || return 1
  grep -q 'New host keys' <<<"$SCREEN" || { NOTE="no new host keys shown (known_hosts $KNOWN was empty)"; return 1; }
  shot probe-hostkeys || return 1
  # what an IT person does: compare each shown fingerprint with the node's own key, on its console
  local node fp shown bad=()
  for node in lab1 lab2 lab3; do
    fp=$("$LAB" ssh "$node" ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $2}')
    shown=$(grep -E "^ +$node +\S+ +SHA256:" <<<"$SCREEN" | awk '{print $3}')
    echo "$node: on the node $fp; shown $shown"
    [[ -n "$fp" && "$fp" == "$shown" ]] || bad+=("$node (node $fp, shown ${shown:-nothing})")
  done
  ((${#bad[@]} == 0)) || { NOTE="fingerprints differ: ${bad[*]}"; return 1; }
  keys a
  wait_for 'all 3 hosts answered' "all 3 hosts to answer after accepting their keys" 120 || return 1
  shot probe || return 1
  NOTE="3 ed25519 fingerprints matched the nodes' keys and were accepted; $(grep -E '^. ?lab1 ' <<<"$SCREEN" | sed -E 's/^. ?lab1 +//; s/ +/ /g')"
  keys Enter
}

phase_preflight() {
  wait_for 'step 4/7: Preflight' "the Preflight screen" 30 || return 1
  wait_for '[0-9]+ failing ─' "the preflight summary" 30 || return 1
  shot preflight || return 1
  local summary0; summary0=$(grep -m1 -Eo '[0-9]+ failing ─.*passed' <<<"$SCREEN")
  failing() { grep -m1 -Eo '^[0-9]+ failing' <<<"$SCREEN" | cut -d' ' -f1; }
  local before id round=0 bypassed=()
  while (($(failing) > 0)); do
    ((round++ < 10)) || { NOTE="still failing after 10 bypasses"; return 1; }
    before=$(failing)
    local n; for ((n = 0; n < 40; n++)); do keys Up; done   # the first row: a failing check (failures sort first)
    keys b
    wait_for 'Bypass \S+ on every host \(recorded\)\? y = bypass' "the bypass question" 20 || return 1
    id=$(grep -m1 -Eo 'Bypass \S+ on every host' <<<"$SCREEN" | awk '{print $2}')
    if [[ " ${LAB_BYPASS[*]} " != *" $id "* ]]; then
      keys n
      NOTE="$id fails, which is not one of the lab's known limits (${LAB_BYPASS[*]}): not bypassed"
      return 1
    fi
    ((round == 1)) && { shot preflight-bypass-confirm || return 1; }
    keys y
    bypassed+=("$id")
    local deadline=$((SECONDS + 20))
    while SCREEN=$(screen_now); (($(failing) >= before)); do
      ((SECONDS < deadline)) || { NOTE="bypassing $id did not lower the failing count"; return 1; }
      sleep 0.2
    done
  done
  wait_for '⤼' "the bypass marks" 10 || return 1
  shot preflight-bypassed || return 1
  local summary1; summary1=$(grep -m1 -Eo '[0-9]+ failing ─.*passed' <<<"$SCREEN")
  NOTE="$summary0 → $summary1; bypassed (b, y): ${bypassed[*]}"
  keys Enter
}

phase_plan() {
  wait_for 'step 5/7: Plan' "the Plan screen" 30 || return 1
  wait_for "Cluster $CLUSTER: 3 nodes" "the plan for 3 nodes" 30 || return 1
  local want; want=$(IFS=,; echo "${LAB_BYPASS[*]}" | sed 's/,/, /g')
  # (on a narrow terminal the line is cut with "…": what is shown must be the start of the list)
  local shown; shown=$(grep -m1 -o 'Bypassed checks: .*' <<<"$SCREEN" | sed -e 's/ *$//' -e 's/^Bypassed checks: //' -e 's/…$//')
  [[ -n "$shown" && "$want" == "$shown"* ]] || { NOTE="the plan does not list the bypassed checks ($want): shows '${shown}'"; return 1; }
  shot plan || return 1
  # the lab's own pod and service ranges (inside 198.19.0.0/16: no packet leaves the lab's namespaces)
  keys n
  wait_for 'Pod network \(CIDR\): ' "the pod network prompt" 20 || return 1
  type_text "$POD_SUBNET"
  wait_for "Pod network \(CIDR\): $POD_SUBNET" "the typed pod network" 20 || return 1
  shot plan-pod-network || return 1
  keys Enter
  wait_for 'Service network \(CIDR\): ' "the service network prompt" 20 || return 1
  type_text "$SERVICE_SUBNET"
  wait_for "Service network \(CIDR\): $SERVICE_SUBNET" "the typed service network" 20 || return 1
  keys Enter
  wait_for "Networks: pods $POD_SUBNET, services $SERVICE_SUBNET \(n changes\)" "the plan with the lab's networks" 20 || return 1
  shot plan-networks || return 1
  keys PageDown
  sleep 0.5; SCREEN=$(screen_now); shot plan-scrolled || return 1
  keys PageDown
  sleep 0.5; SCREEN=$(screen_now); shot plan-scrolled-2 || return 1
  local headline; headline=$(grep -m1 -E '^Cluster ' <<<"$SCREEN" | sed 's/ *$//')
  keys Enter                                        # saves omstack.yaml, generates the admin password, shows it once
  wait_for '^ +password: +\S+' "the generated admin password" 30 || return 1
  PW=$(grep -m1 -E '^ +password: +\S+' <<<"$SCREEN" | awk '{print $2}')
  ( umask 077; printf '%s\n' "$PW" >"$PWFILE" )
  shot plan-password || return 1
  [[ -s "$CONFIG" ]] || { NOTE="omstack.yaml was not saved"; return 1; }
  grep -q "podSubnet: $POD_SUBNET" "$CONFIG" && grep -q "serviceSubnet: $SERVICE_SUBNET" "$CONFIG" || { NOTE="omstack.yaml lacks the networks typed on Plan review"; return 1; }
  [[ "$(stat -c %a "$CONFIG")" == 600 ]] || { NOTE="omstack.yaml is mode $(stat -c %a "$CONFIG"), not 600"; return 1; }
  grep -Fq "$PW" "$CONFIG" && { NOTE="the admin password is in omstack.yaml"; return 1; }
  # While the password is shown nothing has been installed yet: the plan of the saved answers, made now, is the plan
  # the install runs (after the install, preflight would fail on the ports the cluster holds). checks.sh reads it.
  save_plan || return 1
  NOTE="$headline; password shown once (saved 0600 to $PWFILE for checks.sh, redacted in the captures); $(jq -r '[.nodes[] | "\(.host) \(.roles | join("+"))"] | join(", ")' "$RUN/plan.json")"
  keys Enter                                        # written down: start the install
}

# The plan of the saved answers (omstack.yaml is also an inventory) with the bypasses they record, for checks.sh.
save_plan() {
  local -a ign=(); local c
  for c in $(awk '/^  bypassChecks:/{f=1; next} f && /^    - /{print $2; next} {f=0}' "$CONFIG"); do ign+=(--ignore "$c"); done
  ((${#ign[@]} == 2 * ${#LAB_BYPASS[@]})) || { NOTE="omstack.yaml records $((${#ign[@]} / 2)) bypassed checks, ${#LAB_BYPASS[@]} were bypassed"; return 1; }
  "${OMSTACK[@]}" plan -i "$CONFIG" --known-hosts "$KNOWN" --bundle "$BUNDLE" --services "$HERE/services" "${ign[@]}" -o yaml \
    --save "$RUN/plan.json" --log-file "$RUN/omstack-plan.log" >"$RUN/plan.yaml" || { NOTE="omstack plan -i omstack.yaml (the saved answers) failed"; return 1; }
}

phase_install() {
  wait_for 'step 6/7: Install' "the Install screen" 30 || return 1
  wait_for '^Now: ' "the first running step" 120 || return 1
  shot install-start || return 1
  local t0=$SECONDS took_mid=""
  while :; do
    SCREEN=$(screen_now)
    grep -Eq 'Enter: continue|r: retry|the install stopped' <<<"$SCREEN" && break
    ((SECONDS - t0 > 900)) && { NOTE="no end after 900 s"; redact <<<"$SCREEN"; return 1; }
    # one capture mid-way (images imported by now, Kubernetes coming up)
    if [[ -z "$took_mid" ]] && grep -Eq '^Now: ' <<<"$SCREEN" && grep -Eq 'elapsed [4-9][0-9] s' <<<"$SCREEN"; then shot install-running || return 1; took_mid=1; fi
    sleep 0.5
  done
  shot install-finished || return 1
  redact <<<"$SCREEN"
  grep -q 'Enter: continue' <<<"$SCREEN" || { NOTE="the install failed: $(grep -m1 -E 'FAILED|stopped|✗' <<<"$SCREEN" | sed 's/  */ /g')"; return 1; }
  NOTE="$(grep -m1 -Eo 'Install finished in [0-9a-z ]+' <<<"$SCREEN"); $(grep -m1 -Eo '[0-9]+/[0-9]+ step-host pairs done' <<<"$SCREEN")"
  keys Enter
}

phase_done() {
  wait_for 'step 7/7: Done' "the Done screen" 30 || return 1
  grep -q 'OMStack is installed' <<<"$SCREEN" || { NOTE="Done does not say installed"; return 1; }
  grep -q 'Admin console: https://198.19.0.11:9443' <<<"$SCREEN" || { NOTE="Done shows no console URL on lab1"; return 1; }
  shot done || return 1
  # Done wraps long paths onto the next lines (never cuts them): compare without the line breaks
  local kc="$STATE/kubeconfig"
  [[ "$(tr -d ' \n' <<<"$SCREEN")" == *"Kubeconfig:$kc"* ]] || { NOTE="Done does not name the kubeconfig $kc"; return 1; }
  [[ -s "$kc" ]] || { NOTE="Done names the kubeconfig $kc, which does not exist"; return 1; }
  keys Enter
  wait_for 'omstack exited: [0-9]+' "omstack to exit" 30 || return 1
  shot exit || return 1
  grep -q 'omstack exited: 0' <<<"$SCREEN" || { NOTE="omstack exited non-zero: $(grep -m1 'omstack exited' <<<"$SCREEN")"; return 1; }
  tmux_ kill-server   # the pane's scrollback goes with it
  # kubectl from this machine with the kubeconfig Done named (lab1's API at 198.19.0.11:6443)
  local nodes; nodes=$("$LAB" ssh lab1 "KUBECONFIG=/etc/kubernetes/admin.conf kubectl get nodes --no-headers" | awk '{print $1":"$2}' | paste -sd' ')
  NOTE="console https://198.19.0.11:9443, kubeconfig $kc ($(stat -c %a "$kc")); nodes: $nodes"
}

phase_checks() {
  "$HERE/checks.sh" --plan "$RUN/plan.json" --admin-password-file "$PWFILE" | tee -a /dev/fd/3
  local rc=${PIPESTATUS[0]}
  NOTE=$(grep -E '^checks: [0-9]+ passed' "$RUN/phase-checks.out" | tail -1 | sed 's/^checks: //')
  return "$rc"
}

# The same install from the saved answers, without questions: same config, same plan, every step skipped.
phase_rerun() {
  local sum0; sum0=$(sha256sum <"$CONFIG")
  echo "--- omstack.yaml as the wizard saved it:"; cat "$CONFIG"
  local -a cmd=("${OMSTACK[@]}" install -c "$CONFIG" --yes --trust "$PUB" --services "$HERE/services" --known-hosts "$KNOWN" --log-file "$RUN/omstack-rerun.log")
  echo "+ ${cmd[*]}"
  OMSTACK_TRUST_DIR="$RUN/trust" "${cmd[@]}" </dev/null >"$RUN/rerun.out" 2>&1
  local rc=$?
  redact <"$RUN/rerun.out"
  ((rc == 0)) || { NOTE="exit $rc: $(grep -m2 -E '\[E_[A-Z_]+\]|^error' "$RUN/rerun.out" | paste -sd' ' | cut -c1-300)"; return 1; }
  [[ "$(sha256sum <"$CONFIG")" == "$sum0" ]] || { NOTE="--yes changed omstack.yaml"; return 1; }
  local db="$STATE/install.db" q
  q() { sqlite3 -readonly "$db" "$1"; }
  local runs; runs=$(q "SELECT id||' '||status||' '||ifnull(plan_hash,'-') FROM runs WHERE mode='apply' ORDER BY id")
  echo "--- journal runs (id status plan_hash):"; echo "$runs"
  local n; n=$(wc -l <<<"$runs")
  ((n >= 2)) || { NOTE="the journal has $n apply run(s), expected the wizard's and this one"; return 1; }
  local a b; read -r a a_st a_hash <<<"$(sed -n "$((n - 1))p" <<<"$runs")"; read -r b b_st b_hash <<<"$(sed -n "${n}p" <<<"$runs")"
  [[ $a_st == succeeded && $b_st == succeeded ]] || { NOTE="runs $a ($a_st) and $b ($b_st) did not both succeed"; return 1; }
  # the same plan: the same plan hash when the journal records one, and for every step on every host the same
  # inputs hash (each step's inputs are drawn from the plan; the journal skips a step only when they are unchanged)
  local plan_note="plan_hash not recorded by the install"
  if [[ $a_hash != - || $b_hash != - ]]; then
    [[ $a_hash == "$b_hash" ]] || { NOTE="plan hash differs: wizard run $a $a_hash, --yes run $b $b_hash"; return 1; }
    plan_note="same plan hash $a_hash"
  fi
  local pairs_a pairs_b differ
  pairs_a=$(q "SELECT count(*) FROM steps WHERE run_id=$a") pairs_b=$(q "SELECT count(*) FROM steps WHERE run_id=$b")
  differ=$(q "SELECT group_concat(x.host||' '||x.step_id, ', ') FROM steps x JOIN steps y ON x.step_id=y.step_id AND x.host=y.host WHERE x.run_id=$a AND y.run_id=$b AND x.inputs_hash<>y.inputs_hash")
  [[ $pairs_a == "$pairs_b" && -z "$differ" ]] || { NOTE="the plans differ: run $a has $pairs_a step-host pairs, run $b $pairs_b; inputs changed for: ${differ:-none}"; return 1; }
  local counts; counts=$(q "SELECT status||'='||count(*) FROM steps WHERE run_id=$b GROUP BY status" | paste -sd' ')
  echo "--- run $b steps: $counts"
  # everything is skipped, except the hand-off of the install journal to the admin service: it records each new run
  # (this one included) in the admin database, so it has work after every run by design
  local other; other=$(q "SELECT group_concat(host||' '||step_id||' '||status, ', ') FROM steps WHERE run_id=$b AND status<>'skipped' AND step_id<>'admin.journal-handoff'")
  [[ -z "$other" ]] || { NOTE="run $b did not skip: $other"; return 1; }
  NOTE="run $b: same omstack.yaml (sha256), same $pairs_b step-host pairs with the same inputs as the wizard's run $a ($plan_note); steps: $counts (admin.journal-handoff records run $b); $(grep -m1 -Eo 'run [0-9]+ [a-z]+ in [0-9.]+ s' "$RUN/rerun.out")"
}

phase_down() {
  "$LAB" down || { NOTE="lab.sh down failed: check tests/lab/lab.sh status"; return 1; }
  LAB_UP=""
  NOTE="nodes stopped, everything lab.sh up made removed"
}

say "wizard-lab: run $RUN_ID ($SIZE): log $LOG"
phase up phase_up || exit 1
phase welcome phase_welcome || exit 1
phase hosts phase_hosts || exit 1
phase probe phase_probe || exit 1
phase preflight phase_preflight || exit 1
phase plan phase_plan || exit 1
phase install phase_install || exit 1
phase done phase_done || exit 1
phase checks phase_checks || exit 1
phase rerun phase_rerun || exit 1
exit 0
