// Pure resume rules: when the journal allows a skip, and which earlier failures need the operator's word before a new run.
import type { StepRow } from "../state/journal.js";

/** Failures that say nothing about the step itself (the connection dropped, the host was busy): retried without asking. */
export const TRANSIENT_FAILURE_CODES: ReadonlySet<string> = new Set(["E_SSH_CONNECT", "E_SSH_TIMEOUT", "E_COMMAND_TIMEOUT", "E_INSTALL_HOST_LOCKED"]);

/** Whether the journal lets this step be skipped (the host's check must still agree), and why or why not. */
export function journalVerdict(prev: StepRow | null, hash: string, forced: boolean): { mayskip: boolean; reason: string } {
  if (forced) return { mayskip: false, reason: "forced by --from-step" };
  if (!prev) return { mayskip: false, reason: "never applied" };
  if (prev.status === "running") return { mayskip: false, reason: `run ${prev.runId} was interrupted during this step` };
  if (prev.status === "failed" || prev.status === "rolled-back") return { mayskip: false, reason: `failed in run ${prev.runId} (${prev.errorCode ?? "unknown"})` };
  if (prev.inputsHash !== hash) return { mayskip: false, reason: `inputs changed since run ${prev.runId}` };
  return { mayskip: true, reason: `done in run ${prev.runId}` };
}

/** Earlier failures a plain re-run must not silently retry: the operator fixes the cause, then says --retry-failed. */
export function blockingFailures(rows: readonly StepRow[]): StepRow[] {
  return rows.filter((r) => (r.status === "failed" || r.status === "rolled-back") && !TRANSIENT_FAILURE_CODES.has(r.errorCode ?? ""));
}
