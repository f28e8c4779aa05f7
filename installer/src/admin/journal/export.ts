// Reads the installer's journal (install.db, read-only) and its run logs into a JournalExport.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { OmstackError } from "../../errors.js";
import { JOURNAL_EXPORT_FORMAT, type ExportedRun, type ExportedRunStatus, type ExportedStep, type ExportedStepStatus, type JournalExport } from "./format.js";

/** Most of one step's log carried per export; the tail is kept (failures are at the end). */
export const STEP_LOG_TAIL_BYTES = 64 * 1024;

/** The first bytes of every SQLite 3 database file. */
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/** True when the file starts like an SQLite database (an install.db) rather than a JSON export. */
export function isSqliteFile(path: string): boolean {
  try {
    const head = readFileSync(path).subarray(0, SQLITE_MAGIC.length);
    return head.equals(SQLITE_MAGIC);
  } catch {
    return false;
  }
}

const TIMESTAMPED = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z /;

/** The lines one step wrote to a host's run log (`<iso> [<stepId>] <text>`, continuation lines included), as text. */
export function stepLogLines(hostLog: string, stepId: string, maxBytes = STEP_LOG_TAIL_BYTES): string {
  const tag = `[${stepId}] `;
  const out: string[] = [];
  let inStep = false;
  for (const line of hostLog.split("\n")) {
    if (TIMESTAMPED.test(line)) {
      const rest = line.slice(line.indexOf(" ") + 1);
      inStep = rest.startsWith(tag);
      if (inStep) out.push(`${line.slice(0, line.indexOf(" "))} ${rest.slice(tag.length)}`);
    } else if (inStep && line !== "") out.push(line);
  }
  const text = out.join("\n");
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const cut = Buffer.from(text).subarray(-maxBytes).toString("utf8");
  return `… (earlier lines dropped)\n${cut.slice(cut.indexOf("\n") + 1)}`;
}

interface RawRun {
  id: number;
  status: ExportedRunStatus;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  hostname: string;
  options: string;
  plan_hash: string | null;
}

interface RawStep {
  step_id: string;
  host: string;
  seq: number;
  status: ExportedStepStatus;
  attempts: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error_code: string | null;
  message: string | null;
  log_path: string | null;
}

function bundleVersionOf(options: string): string | null {
  try {
    const o = JSON.parse(options) as Record<string, unknown>;
    return typeof o.bundleVersion === "string" ? o.bundleVersion : null;
  } catch {
    return null;
  }
}

/** Exports every apply run of the journal file at `dbFile` (read-only; the installer may hold it open). */
export function exportJournal(dbFile: string, now = new Date()): JournalExport {
  let db: Database.Database;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 10000");
  } catch (e) {
    throw new OmstackError("E_ADMIN_JOURNAL_FORMAT", `the install journal ${dbFile} cannot be opened: ${(e as Error).message}`, { remedy: "pass the installer's STATE_DIR/install.db (readable by this user)", cause: e });
  }
  try {
    let raw: RawRun[];
    try {
      raw = db.prepare("SELECT id, status, started_at, finished_at, duration_ms, hostname, options, plan_hash FROM runs WHERE mode = 'apply' ORDER BY id").all() as RawRun[];
    } catch (e) {
      throw new OmstackError("E_ADMIN_JOURNAL_FORMAT", `${dbFile} is an SQLite file but not an install journal: ${(e as Error).message}`, { remedy: "pass the installer's STATE_DIR/install.db", cause: e });
    }
    const logs = new Map<string, string | null>();
    // The recorded path, else the same file under this journal's own folder (a state directory copied elsewhere).
    const logText = (path: string | null, runId: number): string | null => {
      if (!path) return null;
      const candidates = [path, join(dirname(dbFile), "logs", `run-${runId}`, basename(path))];
      const found = candidates.find((p) => existsSync(p));
      if (!found) return null;
      if (!logs.has(found)) logs.set(found, readFileSync(found, "utf8"));
      return logs.get(found) ?? null;
    };
    const stepsOf = db.prepare("SELECT step_id, host, seq, status, attempts, started_at, finished_at, duration_ms, error_code, message, log_path FROM steps WHERE run_id = ? ORDER BY seq, host");
    const runs = raw.map((r): ExportedRun => ({
      id: r.id,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      durationMs: r.duration_ms,
      hostname: r.hostname,
      planHash: r.plan_hash,
      bundleVersion: bundleVersionOf(r.options),
      steps: (stepsOf.all(r.id) as RawStep[]).map((s): ExportedStep => {
        const log = logText(s.log_path, r.id);
        return {
          stepId: s.step_id,
          host: s.host,
          seq: s.seq,
          status: s.status,
          attempts: s.attempts,
          startedAt: s.started_at,
          finishedAt: s.finished_at,
          durationMs: s.duration_ms,
          errorCode: s.error_code,
          message: s.message,
          log: log === null ? null : stepLogLines(log, s.step_id),
        };
      }),
    }));
    return { format: JOURNAL_EXPORT_FORMAT, exportedAt: now.toISOString(), runs };
  } finally {
    db.close();
  }
}
