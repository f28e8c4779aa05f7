# Shared by run-lab.sh and wizard-lab.sh (sourced, never run): phases with one summary line each, the full output in the
# run's log. The caller sets LOG, PHASE_DIR (where phase outputs go), TIMES=(), fd 3 (the terminal), PHASE_PREFIX ("lab", "wizard-lab"), and
# PHASE_TAIL (lines of a failed phase's output to show); it may define phase_failed OUTFILE to add to a failure's output.

# A line for the terminal and the log.
say() { printf '%s\n' "$*" >&3; printf '%s\n' "$*" >>"$LOG"; }

# Runs a command without the lab lock's descriptor (nodes started with it would hold the lock as long as they run).
without_lock_fd() { if [[ -n "${LOCK_FD:-}" ]]; then "$@" {LOCK_FD}>&-; else "$@"; fi; }

# phase NAME FUNC: runs FUNC with its output in the log; FUNC leaves a one-line summary in NOTE.
phase() {
  local name=$1 fn=$2 t0=$SECONDS rc out="${PHASE_DIR:?}/phase-$1.out"
  NOTE=""
  printf '\n===== %s phase %s\n' "$(date -u +%H:%M:%S)" "$name" >>"$LOG"
  "$fn" >"$out" 2>&1; rc=$?
  if ((rc != 0)) && declare -F phase_failed >/dev/null; then phase_failed "$out"; fi
  cat "$out" >>"$LOG"
  local d=$((SECONDS - t0)); TIMES+=("$name=$d")
  if ((rc == 0)); then
    printf '%s: %-10s ok      %4d s  %s\n' "$PHASE_PREFIX" "$name" "$d" "$NOTE" | tee -a "$LOG" >&3
  else
    FAILED_PHASE=$name
    printf '%s: %-10s FAILED  %4d s  %s\n' "$PHASE_PREFIX" "$name" "$d" "${NOTE:-exit status $rc}" | tee -a "$LOG" >&3
    tail -n "${PHASE_TAIL:-12}" "$out" | sed "s/^/$PHASE_PREFIX:   | /" >&3
  fi
  return "$rc"
}
