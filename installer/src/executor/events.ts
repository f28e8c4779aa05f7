// The executor's typed event stream: the TUI, the plain-line printer and the log are all fed from these.

/** What went wrong, kept whole for the operator: code, message, fix, and for commands the argv, exit status and output tail. */
export interface FailureInfo {
  code: string;
  message: string;
  remedy: string | null;
  command: string | null;
  exitStatus: number | null;
  outputTail: string | null;
}

/** One event; `host` is the journal key (an inventory host name, or "cluster"). */
export type ExecutorEvent =
  | { type: "run-started"; runId: number | null; dryRun: boolean; steps: { id: string; title: string; hosts?: string[] }[]; logDir: string | null }
  | { type: "step-started"; stepId: string; title: string; host: string; attempt: number; pending: string; logPath: string }
  | { type: "step-skipped"; stepId: string; title: string; host: string; reason: string; logPath: string }
  | { type: "step-applied"; stepId: string; host: string; durationMs: number; logPath: string }
  | { type: "step-verified"; stepId: string; host: string; durationMs: number; logPath: string }
  | { type: "step-failed"; stepId: string; title: string; host: string; durationMs: number; error: FailureInfo; logPath: string }
  | { type: "step-rolled-back"; stepId: string; host: string; ok: boolean; message: string | null; logPath: string }
  | { type: "step-blocked"; stepId: string; host: string; reason: string }
  | { type: "step-note"; stepId: string; host: string; message: string }
  | { type: "step-planned"; stepId: string; title: string; host: string; willApply: boolean; reason: string; lines: string[] }
  | { type: "run-finished"; runId: number | null; status: "succeeded" | "failed" | "interrupted"; durationMs: number; failures: { stepId: string; host: string; error: FailureInfo }[] };

/** One plain line per event, host first: what a pipe or CI log gets (the TUI renders the same events). */
export function formatEvent(e: ExecutorEvent): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  switch (e.type) {
    case "run-started":
      return [`${e.dryRun ? "dry-run" : `run ${e.runId}`}: ${e.steps.length} steps${e.logDir ? `, logs in ${e.logDir}` : ""}`];
    case "step-started":
      return [`${e.host}: ${e.stepId}: started (attempt ${e.attempt}; ${e.pending})`];
    case "step-skipped":
      return [`${e.host}: ${e.stepId}: skipped (${e.reason})`];
    case "step-applied":
      return [`${e.host}: ${e.stepId}: applied in ${s(e.durationMs)}`];
    case "step-verified":
      return [`${e.host}: ${e.stepId}: verified (${s(e.durationMs)} in all)`];
    case "step-failed": {
      const message = e.error.message.startsWith(`${e.host}: `) ? e.error.message.slice(e.host.length + 2) : e.error.message;
      const lines = [`${e.host}: ${e.stepId}: FAILED: ${message} [${e.error.code}]`];
      if (e.error.command) lines.push(`${e.host}:   command: ${e.error.command} (exit status ${e.error.exitStatus ?? "none"})`);
      if (e.error.outputTail) lines.push(...e.error.outputTail.split("\n").map((l) => `${e.host}:   | ${l}`));
      if (e.error.remedy) lines.push(`${e.host}:   fix: ${e.error.remedy}`);
      lines.push(`${e.host}:   log: ${e.logPath}`);
      return lines;
    }
    case "step-rolled-back":
      return [`${e.host}: ${e.stepId}: ${e.ok ? "rolled back" : `rollback failed: ${e.message}`}`];
    case "step-blocked":
      return [`${e.host}: ${e.stepId}: not run (${e.reason})`];
    case "step-note":
      return [`${e.host}: ${e.stepId}: note: ${e.message}`];
    case "step-planned":
      return e.willApply
        ? [`${e.host}: ${e.stepId}: would apply (${e.reason})`, ...e.lines.map((l) => `${e.host}:   ${l}`)]
        : [`${e.host}: ${e.stepId}: would skip (${e.reason})`];
    case "run-finished":
      return [`${e.runId === null ? "dry-run" : `run ${e.runId}`} ${e.status} in ${s(e.durationMs)}${e.failures.length ? `: failed on ${e.failures.length} step(s)/host(s)` : ""}`];
  }
}
