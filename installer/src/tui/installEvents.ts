// The install progress the TUI shows, folded from the executor's event stream. InstallEvent is the subset of the
// executor's events the view reads (structurally compatible: an executor event can be passed as is); the fold is pure.

/** What a failing step left for the operator: the error, its fix and the tail of its output. */
export interface InstallFailure {
  code: string;
  message: string;
  remedy: string | null;
  command?: string | null;
  outputTail: string | null;
}

/** Events the install view understands; unknown types are ignored so the executor may add more. */
export type InstallEvent =
  | { type: "run-started"; dryRun: boolean; steps: { id: string; title: string; hosts?: string[] }[]; logDir?: string | null }
  | { type: "step-started"; stepId: string; title: string; host: string; attempt?: number }
  | { type: "step-skipped"; stepId: string; host: string; reason: string }
  | { type: "step-applied"; stepId: string; host: string; durationMs: number }
  | { type: "step-verified"; stepId: string; host: string; durationMs: number }
  | { type: "step-failed"; stepId: string; host: string; error: InstallFailure; logPath?: string }
  | { type: "step-planned"; stepId: string; host: string; willApply: boolean; reason: string }
  | { type: "step-blocked"; stepId: string; host: string; reason: string }
  | { type: "step-rolled-back"; stepId: string; host: string; ok: boolean }
  | { type: "step-note"; stepId: string; host: string; message: string }
  | { type: "run-finished"; status: "succeeded" | "failed" | "interrupted"; durationMs: number };

/** One cell of the steps × hosts grid; "none": the step has nothing to do on that host (k8s.init on a worker). */
export type CellState = "pending" | "running" | "applied" | "done" | "skipped" | "failed" | "would-apply" | "would-skip" | "blocked" | "rolled-back" | "none";

/** Everything the install screen draws. */
export interface InstallProgress {
  dryRun: boolean;
  steps: { id: string; title: string }[];
  hosts: string[];
  cells: Record<string, CellState>;
  running: { stepId: string; title: string; host: string }[];
  failures: { stepId: string; host: string; error: InstallFailure; logPath: string | null }[];
  lastNote: string | null;
  logDir: string | null;
  finished: "succeeded" | "failed" | "interrupted" | null;
  durationMs: number | null;
  /** When the current run started and each running cell began (ms clock of the caller; empty when untimed). */
  startedAt: number | null;
  since: Record<string, number>;
  /** The last few step notes per host: a failing host's context when its error carries no output. */
  notes: Record<string, string[]>;
}

/** A key for one cell. */
export function cellKey(stepId: string, host: string): string {
  return `${stepId}\u0000${host}`;
}

/** The state before any event (hosts known up front keep their order). */
export function initialProgress(hosts: readonly string[]): InstallProgress {
  return { dryRun: false, steps: [], hosts: [...hosts], cells: {}, running: [], failures: [], lastNote: null, logDir: null, finished: null, durationMs: null, startedAt: null, since: {}, notes: {} };
}

/** Folds one event into the progress; returns a new object (React state). */
export function applyInstallEvent(p: InstallProgress, e: InstallEvent): InstallProgress {
  const set = (stepId: string, host: string, state: CellState, extra: Partial<InstallProgress> = {}): InstallProgress => ({
    ...p,
    hosts: p.hosts.includes(host) ? p.hosts : [...p.hosts, host],
    steps: p.steps.some((s) => s.id === stepId) ? p.steps : [...p.steps, { id: stepId, title: stepId }],
    cells: { ...p.cells, [cellKey(stepId, host)]: state },
    running: p.running.filter((r) => !(r.stepId === stepId && r.host === host)),
    ...extra,
  });
  switch (e.type) {
    case "run-started": {
      // a new run (first or retry) keeps finished cells so the grid shows the whole install; a step that names its
      // hosts has nothing to do on the others
      const cells = { ...p.cells };
      for (const s of e.steps) if (s.hosts) for (const h of p.hosts) if (!s.hosts.includes(h) && cells[cellKey(s.id, h)] === undefined) cells[cellKey(s.id, h)] = "none";
      return { ...p, dryRun: e.dryRun, steps: e.steps.map((s) => ({ id: s.id, title: s.title })), cells, logDir: e.logDir ?? null, finished: null, durationMs: null, running: [], failures: [] };
    }
    case "step-started": {
      const next = set(e.stepId, e.host, "running");
      return { ...next, running: [...next.running, { stepId: e.stepId, title: e.title, host: e.host }], failures: p.failures.filter((f) => !(f.stepId === e.stepId && f.host === e.host)) };
    }
    case "step-skipped":
      return set(e.stepId, e.host, "skipped");
    case "step-applied":
      return set(e.stepId, e.host, "applied");
    case "step-verified":
      return set(e.stepId, e.host, "done");
    case "step-failed":
      return set(e.stepId, e.host, "failed", { failures: [...p.failures.filter((f) => !(f.stepId === e.stepId && f.host === e.host)), { stepId: e.stepId, host: e.host, error: e.error, logPath: e.logPath ?? null }] });
    case "step-planned":
      return set(e.stepId, e.host, e.willApply ? "would-apply" : "would-skip");
    case "step-blocked":
      return set(e.stepId, e.host, "blocked");
    case "step-rolled-back":
      return set(e.stepId, e.host, "rolled-back");
    case "step-note":
      return { ...p, lastNote: `${e.host}: ${e.message}`, notes: { ...p.notes, [e.host]: [...(p.notes[e.host] ?? []), e.message].slice(-NOTES_KEPT) } };
    case "run-finished": {
      // a run that succeeded ran every step on every host it targets: a cell no event reached was not a target
      const cells = { ...p.cells };
      if (e.status === "succeeded") for (const s of p.steps) for (const h of p.hosts) if (cells[cellKey(s.id, h)] === undefined || cells[cellKey(s.id, h)] === "pending") cells[cellKey(s.id, h)] = "none";
      return { ...p, cells, finished: e.status, durationMs: e.durationMs, running: [] };
    }
    default:
      return p;
  }
}

/** Step notes kept per host. */
const NOTES_KEPT = 4;

/** One event and when it arrived: the reducer action of views that show elapsed time. */
export interface TimedEvent {
  e: InstallEvent;
  at: number;
}

/** applyInstallEvent plus timing: the run's start and when each running cell began. */
export function applyTimedEvent(p: InstallProgress, a: TimedEvent): InstallProgress {
  const next = applyInstallEvent(p, a.e);
  if (next === p) return p;
  const e = a.e;
  if (e.type === "run-started") return { ...next, startedAt: a.at, since: {} };
  if (e.type === "run-finished") return { ...next, since: {} };
  if (!("stepId" in e) || e.type === "step-note") return next;
  const key = cellKey(e.stepId, e.host);
  const since = { ...next.since };
  if (e.type === "step-started") since[key] = a.at;
  else delete since[key];
  return { ...next, since };
}

/** What one host is doing, for the per-host state column. */
export type HostState =
  | { kind: "running"; stepId: string; title: string; since: number | null; more: number }
  | { kind: "failed"; stepId: string }
  | { kind: "blocked" }
  | { kind: "done" }
  | { kind: "waiting" }
  | { kind: "pending" };

/** The state of one host derived from the grid: running beats failed beats blocked beats done. */
export function hostState(p: InstallProgress, host: string): HostState {
  const mine = p.running.filter((r) => r.host === host);
  const first = mine[0];
  if (first) return { kind: "running", stepId: first.stepId, title: first.title, since: p.since[cellKey(first.stepId, host)] ?? null, more: mine.length - 1 };
  const failed = p.failures.find((f) => f.host === host);
  if (failed) return { kind: "failed", stepId: failed.stepId };
  const states = p.steps.map((s) => p.cells[cellKey(s.id, host)]);
  if (states.some((s) => s === "blocked" || s === "rolled-back")) return { kind: "blocked" };
  if (states.length > 0 && states.every((s) => isSettled(s) || s === "applied")) return { kind: "done" };
  return states.some((s) => s !== undefined && s !== "pending") ? { kind: "waiting" } : { kind: "pending" };
}

/** Cells counted as finished for the progress figure ("none" counts as finished, but in no figure: see pairCounts). */
export function isSettled(s: CellState | undefined): boolean {
  return s === "done" || s === "skipped" || s === "would-apply" || s === "would-skip" || s === "none";
}

/** The progress figure: step-host pairs finished, of the pairs that have something to do. */
export function pairCounts(p: InstallProgress): { settled: number; total: number } {
  let settled = 0;
  let total = 0;
  for (const s of p.steps)
    for (const h of p.hosts) {
      const c = p.cells[cellKey(s.id, h)];
      if (c === "none") continue;
      total++;
      if (isSettled(c)) settled++;
    }
  return { settled, total };
}
