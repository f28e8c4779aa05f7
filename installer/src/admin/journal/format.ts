// The install journal as it travels to the admin service: plain JSON (runs, step outcomes, each step's log tail),
// independent of both databases' schemas, checked field by field on arrival.
import { OmstackError } from "../../errors.js";

/** Format tag of a journal export; bump the number when a field changes meaning. */
export const JOURNAL_EXPORT_FORMAT = "omstack-install-journal/1";

/** Status of one step on one host, as the installer's journal records it. */
export type ExportedStepStatus = "running" | "verified" | "skipped" | "failed" | "rolled-back" | "blocked";
/** Status of one install run, as the installer's journal records it. */
export type ExportedRunStatus = "running" | "succeeded" | "failed" | "interrupted";

/** One step × host outcome of a run. */
export interface ExportedStep {
  stepId: string;
  host: string;
  seq: number;
  status: ExportedStepStatus;
  attempts: number;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  errorCode: string | null;
  message: string | null;
  /** The step's lines from the host's run log (tail); null when the log was not available where the export was made. */
  log: string | null;
}

/** One apply run of the installer (dry-runs change nothing and are not exported). */
export interface ExportedRun {
  id: number;
  status: ExportedRunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** The machine the installer ran on. */
  hostname: string;
  planHash: string | null;
  /** Bundle version the run installed, when the installer recorded one. */
  bundleVersion: string | null;
  steps: ExportedStep[];
}

/** A whole journal export. */
export interface JournalExport {
  format: typeof JOURNAL_EXPORT_FORMAT;
  exportedAt: string;
  runs: ExportedRun[];
}

/** The admin database's key for an imported run: stable across imports, distinct across installer machines. */
export function runSourceKey(run: Pick<ExportedRun, "hostname" | "id" | "startedAt">): string {
  return `install-journal:${run.hostname}:${run.id}:${run.startedAt}`;
}

const RUN_STATUSES: readonly string[] = ["running", "succeeded", "failed", "interrupted"];
const STEP_STATUSES: readonly string[] = ["running", "verified", "skipped", "failed", "rolled-back", "blocked"];

function bad(where: string, what: string): OmstackError {
  return new OmstackError("E_ADMIN_JOURNAL_FORMAT", `journal export: ${where} ${what}`, {
    remedy: "pass the installer's STATE_DIR/install.db or an export written by `omstack install` (admin.journal-handoff); a hand-edited export must keep every field",
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function str(o: Obj, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== "string") throw bad(where, `needs "${k}" as a string; found ${JSON.stringify(v) ?? "nothing"}`);
  return v;
}
function strOrNull(o: Obj, k: string, where: string): string | null {
  const v = o[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") throw bad(where, `needs "${k}" as a string or null; found ${JSON.stringify(v)}`);
  return v;
}
function int(o: Obj, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw bad(where, `needs "${k}" as a whole number ≥ 0; found ${JSON.stringify(v) ?? "nothing"}`);
  return v;
}
function intOrNull(o: Obj, k: string, where: string): number | null {
  return o[k] === null || o[k] === undefined ? null : int(o, k, where);
}
function oneOf<T extends string>(o: Obj, k: string, allowed: readonly string[], where: string): T {
  const v = str(o, k, where);
  if (!allowed.includes(v)) throw bad(where, `has "${k}" ${JSON.stringify(v)}; expected one of ${allowed.join(", ")}`);
  return v as T;
}

/** Parses and checks an export's JSON text; throws E_ADMIN_JOURNAL_FORMAT naming the first bad field. */
export function parseJournalExport(text: string): JournalExport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw bad("file", `is not JSON (${(e as Error).message})`);
  }
  if (!isObj(data)) throw bad("file", "is not a JSON object");
  if (data.format !== JOURNAL_EXPORT_FORMAT) throw bad("file", `has format ${JSON.stringify(data.format) ?? "(none)"}; this omstack reads ${JOURNAL_EXPORT_FORMAT}`);
  if (!Array.isArray(data.runs)) throw bad("file", `needs "runs" as a list`);
  const runs = data.runs.map((r: unknown, i: number): ExportedRun => {
    const where = `runs[${i}]`;
    if (!isObj(r)) throw bad(where, "is not an object");
    if (!Array.isArray(r.steps)) throw bad(where, `needs "steps" as a list`);
    const steps = r.steps.map((s: unknown, j: number): ExportedStep => {
      const sw = `${where}.steps[${j}]`;
      if (!isObj(s)) throw bad(sw, "is not an object");
      return {
        stepId: str(s, "stepId", sw),
        host: str(s, "host", sw),
        seq: int(s, "seq", sw),
        status: oneOf<ExportedStepStatus>(s, "status", STEP_STATUSES, sw),
        attempts: int(s, "attempts", sw),
        startedAt: str(s, "startedAt", sw),
        finishedAt: strOrNull(s, "finishedAt", sw),
        durationMs: intOrNull(s, "durationMs", sw),
        errorCode: strOrNull(s, "errorCode", sw),
        message: strOrNull(s, "message", sw),
        log: strOrNull(s, "log", sw),
      };
    });
    return {
      id: int(r, "id", where),
      status: oneOf<ExportedRunStatus>(r, "status", RUN_STATUSES, where),
      startedAt: str(r, "startedAt", where),
      finishedAt: strOrNull(r, "finishedAt", where),
      durationMs: intOrNull(r, "durationMs", where),
      hostname: str(r, "hostname", where),
      planHash: strOrNull(r, "planHash", where),
      bundleVersion: strOrNull(r, "bundleVersion", where),
      steps,
    };
  });
  const keys = new Set<string>();
  for (const r of runs) {
    const k = runSourceKey(r);
    if (keys.has(k)) throw bad(`run ${r.id}`, "is listed twice");
    keys.add(k);
  }
  return { format: JOURNAL_EXPORT_FORMAT, exportedAt: typeof data.exportedAt === "string" ? data.exportedAt : "", runs };
}
