// Imports a JournalExport into the admin state database: one admin run per installer run (keyed by runs.source),
// replaced whole on every import, so importing twice adds nothing and a later import brings a run's final status.
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { OmstackError } from "../../errors.js";
import type { StateDb } from "../db/open.js";
import type { RunStatus, RunStep } from "../store/runs.js";
import { exportJournal, isSqliteFile } from "./export.js";
import { parseJournalExport, runSourceKey, type ExportedRun, type ExportedStep, type JournalExport } from "./format.js";

/** Written into the state directory after every import: which installer runs the database holds, for the install's check. */
export const IMPORT_RECEIPT_FILE = "journal-imports.json";

/** One imported run as the receipt lists it. */
export interface ReceiptRun {
  key: string;
  status: string;
  steps: number;
}

/** What one import did. */
export interface ImportResult {
  added: number;
  updated: number;
  unchanged: number;
  runs: { key: string; adminId: number; status: RunStatus; steps: number }[];
}

const RUN_STATUS: Record<ExportedRun["status"], RunStatus> = { running: "running", succeeded: "succeeded", failed: "failed", interrupted: "failed" };
const STEP_STATUS: Record<ExportedStep["status"], RunStep["status"]> = { running: "running", verified: "done", skipped: "skipped", failed: "failed", "rolled-back": "rolled_back", blocked: "skipped" };

/** A step row to write; `logKnown` false = the export had no log for it, so a log already imported is kept. */
export type MappedStep = RunStep & { logKnown: boolean };

/** The admin rows for one installer run: pure, so the mapping is tested on its own. */
export function mapRun(run: ExportedRun): { summary: { status: RunStatus; startedAt: string; finishedAt: string | null; startedBy: string; error: string | null; toVersion: string | null }; steps: MappedStep[] } {
  const failures = run.steps.filter((s) => s.status === "failed" || s.status === "rolled-back");
  const error =
    run.status === "interrupted"
      ? "the install was interrupted before it finished; running it again resumes it"
      : failures.length > 0
        ? failures.map((s) => `${s.host}: ${s.stepId}: ${s.errorCode ?? "failed"}${s.message ? ` ${s.message}` : ""}`).join("; ")
        : null;
  const steps = [...run.steps]
    .sort((a, b) => a.seq - b.seq || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map((s): MappedStep => {
      const outcome = s.status === "blocked" || s.status === "skipped" || s.errorCode || s.message ? `${s.status}${s.errorCode ? ` ${s.errorCode}` : ""}${s.message ? `: ${s.message}` : ""}` : "";
      return {
        stepId: `${s.stepId}@${s.host}`,
        title: `${s.stepId} on ${s.host}${s.attempts > 1 ? ` (attempt ${s.attempts})` : ""}`,
        status: STEP_STATUS[s.status],
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        log: [s.log ?? "", outcome].filter((x) => x !== "").join("\n"),
        logKnown: s.log !== null,
      };
    });
  return {
    summary: { status: RUN_STATUS[run.status], startedAt: run.startedAt, finishedAt: run.finishedAt, startedBy: `installer@${run.hostname}`, error: run.status === "running" && failures.length === 0 ? null : error, toVersion: run.bundleVersion },
    steps,
  };
}

interface RunRowLite {
  id: number;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  started_by: string | null;
  error: string | null;
  to_version: string | null;
}

/** Upserts every run of the export in one transaction; a run already imported with the same content counts as unchanged. */
export function importJournal(db: StateDb, exp: JournalExport): ImportResult {
  const result: ImportResult = { added: 0, updated: 0, unchanged: 0, runs: [] };
  const find = db.prepare("SELECT id, status, started_at, finished_at, started_by, error, to_version FROM runs WHERE source = ?");
  const stepsOf = db.prepare("SELECT step_id, title, status, started_at, finished_at, log FROM run_steps WHERE run_id = ? ORDER BY rowid");
  const insertRun = db.prepare("INSERT INTO runs (kind, bundle_id, from_version, to_version, status, started_at, finished_at, started_by, error, source) VALUES ('install', NULL, NULL, ?, ?, ?, ?, ?, ?, ?)");
  const updateRun = db.prepare("UPDATE runs SET to_version = ?, status = ?, started_at = ?, finished_at = ?, started_by = ?, error = ? WHERE id = ?");
  const deleteSteps = db.prepare("DELETE FROM run_steps WHERE run_id = ?");
  const insertStep = db.prepare("INSERT INTO run_steps (run_id, step_id, title, status, started_at, finished_at, log) VALUES (?, ?, ?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (const run of exp.runs) {
      const key = runSourceKey(run);
      const { summary: s, steps: mapped } = mapRun(run);
      const existing = find.get(key) as RunRowLite | undefined;
      const before = existing ? (stepsOf.all(existing.id) as { step_id: string; title: string; status: string; started_at: string | null; finished_at: string | null; log: string }[]) : [];
      const oldLog = new Map(before.map((r) => [r.step_id, r.log]));
      // an export without a step's log (install.db read where its logs are not) never erases a log imported before
      const steps = mapped.map((st) => (st.logKnown || !oldLog.has(st.stepId) ? st : { ...st, log: oldLog.get(st.stepId)! }));
      let id: number;
      if (existing) {
        id = existing.id;
        const same =
          existing.status === s.status &&
          existing.started_at === s.startedAt &&
          existing.finished_at === s.finishedAt &&
          existing.started_by === s.startedBy &&
          existing.error === s.error &&
          existing.to_version === s.toVersion &&
          JSON.stringify(before.map((r) => [r.step_id, r.title, r.status, r.started_at, r.finished_at, r.log])) ===
            JSON.stringify(steps.map((r) => [r.stepId, r.title, r.status, r.startedAt, r.finishedAt, r.log]));
        if (same) {
          result.unchanged++;
          result.runs.push({ key, adminId: id, status: s.status, steps: steps.length });
          continue;
        }
        updateRun.run(s.toVersion, s.status, s.startedAt, s.finishedAt, s.startedBy, s.error, id);
        deleteSteps.run(id);
        result.updated++;
      } else {
        id = Number(insertRun.run(s.toVersion, s.status, s.startedAt, s.finishedAt, s.startedBy, s.error, key).lastInsertRowid);
        result.added++;
      }
      for (const st of steps) insertStep.run(id, st.stepId, st.title, st.status, st.startedAt, st.finishedAt, st.log);
      result.runs.push({ key, adminId: id, status: s.status, steps: steps.length });
    }
  })();
  return result;
}

/** Every imported run the database holds (key, admin status, step rows), oldest first. */
export function importedRuns(db: StateDb): ReceiptRun[] {
  return (db.prepare("SELECT r.source AS key, r.status AS status, (SELECT COUNT(*) FROM run_steps s WHERE s.run_id = r.id) AS steps FROM runs r WHERE r.source IS NOT NULL ORDER BY r.id").all() as ReceiptRun[]).map((r) => ({ key: r.key, status: r.status, steps: r.steps }));
}

/** Writes the receipt (0600, atomically) from what the database holds now. */
export function writeImportReceipt(stateDir: string, db: StateDb, now: Date): void {
  const file = join(stateDir, IMPORT_RECEIPT_FILE);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ writtenAt: now.toISOString(), runs: importedRuns(db) }, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, file);
}

/** Reads `--from`: an install.db (SQLite, with its run logs when they are on this machine) or a JSON export. */
export function readJournalSource(path: string): JournalExport {
  if (isSqliteFile(path)) return exportJournal(path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new OmstackError("E_ADMIN_JOURNAL_FORMAT", `the journal file ${path} cannot be read: ${(e as Error).message}`, { remedy: "check the path given to --from and that this user may read it", cause: e });
  }
  return parseJournalExport(text);
}
