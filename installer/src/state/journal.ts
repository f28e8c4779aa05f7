// The install journal: one SQLite file (WAL, 0600) remembering runs and every step × host outcome, and the local lock.
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { OmstackError } from "../errors.js";
import { JOURNAL_MIGRATIONS, type JournalMigration } from "./migrations.js";
import { processAlive, processStartTime } from "./processInfo.js";

/** File name of the journal inside the state directory. */
export const JOURNAL_FILE = "install.db";

/** Status of one step on one host in one run. */
export type StepStatus = "running" | "verified" | "skipped" | "failed" | "rolled-back" | "blocked";
/** Status of one run. */
export type RunStatus = "running" | "succeeded" | "failed" | "interrupted";

/** A row of the runs table. */
export interface RunRow {
  id: number;
  mode: "apply" | "dry-run";
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  pid: number;
  hostname: string;
  options: Record<string, unknown>;
  planHash: string | null;
  logDir: string | null;
}

/** A row of the steps table. */
export interface StepRow {
  runId: number;
  stepId: string;
  host: string;
  seq: number;
  status: StepStatus;
  attempts: number;
  inputsHash: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  errorCode: string | null;
  message: string | null;
  logPath: string | null;
}

/** Who holds the local lock. */
export interface LockHolder {
  pid: number;
  pidStart: string | null;
  hostname: string;
  acquiredAt: string;
  purpose: string;
}

interface RawStep {
  run_id: number;
  step_id: string;
  host: string;
  seq: number;
  status: StepStatus;
  attempts: number;
  inputs_hash: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error_code: string | null;
  message: string | null;
  log_path: string | null;
}

function stepRow(r: RawStep): StepRow {
  return {
    runId: r.run_id,
    stepId: r.step_id,
    host: r.host,
    seq: r.seq,
    status: r.status,
    attempts: r.attempts,
    inputsHash: r.inputs_hash,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    errorCode: r.error_code,
    message: r.message,
    logPath: r.log_path,
  };
}

const now = () => new Date().toISOString();

function stateError(message: string, cause?: unknown): OmstackError {
  return new OmstackError("E_INSTALL_STATE", message, {
    remedy: "use a state directory this user can write (--state-dir, OMSTACK_STATE_DIR); the journal must be 0600 and owned by this user",
    cause,
  });
}

/** The journal of one state directory; open one per process. */
export class Journal {
  private lockHeld = false;

  private constructor(
    readonly db: Database.Database,
    readonly stateDir: string,
    readonly file: string,
  ) {}

  /** Opens (creating 0700/0600 if needed) and migrates the journal under `stateDir`. */
  static open(stateDir: string): Journal {
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      if (!statSync(stateDir).isDirectory()) throw new Error("not a directory");
    } catch (e) {
      throw stateError(`the state directory ${stateDir} is required to be a writable directory; it could not be created (${(e as Error).message})`, e);
    }
    const file = join(stateDir, JOURNAL_FILE);
    let db: Database.Database;
    try {
      const fresh = !existsSync(file);
      db = new Database(file);
      if (fresh) chmodSync(file, 0o600);
      db.pragma("journal_mode = WAL");
      db.pragma("foreign_keys = ON");
      db.pragma("busy_timeout = 10000");
      db.pragma("synchronous = FULL");
      try {
        migrateJournal(db, JOURNAL_MIGRATIONS);
      } catch (e) {
        db.close();
        throw e;
      }
    } catch (e) {
      if (e instanceof OmstackError) throw e;
      throw stateError(`the install journal ${file} could not be opened: ${(e as Error).message}`, e);
    }
    for (const side of ["-wal", "-shm"]) if (existsSync(file + side)) chmodSync(file + side, 0o600);
    return new Journal(db, stateDir, file);
  }

  /** Opens the journal for reading only when it exists (dry-run must create nothing); null when there is none yet. */
  static openIfExists(stateDir: string): Journal | null {
    const file = join(stateDir, JOURNAL_FILE);
    if (!existsSync(file)) return null;
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma("busy_timeout = 10000");
      return new Journal(db, stateDir, file);
    } catch (e) {
      throw stateError(`the install journal ${file} could not be read: ${(e as Error).message}`, e);
    }
  }

  /** Takes the exclusive local lock, replacing a lock whose process is gone; throws E_INSTALL_LOCKED when it is alive. */
  acquireLock(purpose: string): void {
    const me: LockHolder = { pid: process.pid, pidStart: processStartTime(process.pid), hostname: hostname(), acquiredAt: now(), purpose };
    const take = this.db.transaction((): LockHolder | null => {
      const cur = this.lockHolder();
      if (cur && !(cur.pid === me.pid && cur.pidStart === me.pidStart)) {
        const stale = cur.hostname === me.hostname && !processAlive(cur.pid, cur.pidStart);
        if (!stale) return cur;
      }
      this.db
        .prepare("INSERT OR REPLACE INTO lock (id, pid, pid_start, hostname, acquired_at, purpose) VALUES (1, ?, ?, ?, ?, ?)")
        .run(me.pid, me.pidStart, me.hostname, me.acquiredAt, me.purpose);
      return null;
    });
    const holder = take.immediate();
    if (holder) {
      const where = holder.hostname === me.hostname ? `PID ${holder.pid}` : `PID ${holder.pid} on ${holder.hostname}`;
      throw new OmstackError("E_INSTALL_LOCKED", `another omstack ${holder.purpose} (${where}, since ${holder.acquiredAt}) holds the lock on ${this.file}; only one may run at a time`, {
        remedy:
          holder.hostname === me.hostname
            ? `wait for it to finish (ps -p ${holder.pid}); a lock whose process has exited is taken over automatically`
            : `the state directory is shared with ${holder.hostname}; run the installer there, or if that run is dead, delete the lock: sqlite3 ${this.file} 'DELETE FROM lock'`,
      });
    }
    this.lockHeld = true;
  }

  /** Releases the local lock if this process holds it. */
  releaseLock(): void {
    if (!this.lockHeld) return;
    this.db.prepare("DELETE FROM lock WHERE id = 1 AND pid = ?").run(process.pid);
    this.lockHeld = false;
  }

  lockHolder(): LockHolder | null {
    const r = this.db.prepare("SELECT pid, pid_start, hostname, acquired_at, purpose FROM lock WHERE id = 1").get() as
      | { pid: number; pid_start: string | null; hostname: string; acquired_at: string; purpose: string }
      | undefined;
    return r ? { pid: r.pid, pidStart: r.pid_start, hostname: r.hostname, acquiredAt: r.acquired_at, purpose: r.purpose } : null;
  }

  /** Starts a run; runs left "running" by a dead process are marked interrupted first. Requires the lock. */
  startRun(opts: { mode: "apply" | "dry-run"; options: Record<string, unknown>; planHash: string | null }): number {
    this.requireLock();
    const me = hostname();
    return this.db.transaction(() => {
      const stale = this.db.prepare("SELECT id FROM runs WHERE status = 'running'").all() as { id: number }[];
      for (const { id } of stale) {
        this.db.prepare("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?").run(now(), id);
      }
      const info = this.db
        .prepare("INSERT INTO runs (mode, status, started_at, pid, hostname, options, plan_hash) VALUES (?, 'running', ?, ?, ?, ?, ?)")
        .run(opts.mode, now(), process.pid, me, JSON.stringify(opts.options), opts.planHash);
      return Number(info.lastInsertRowid);
    })();
  }

  setRunLogDir(runId: number, dir: string): void {
    this.db.prepare("UPDATE runs SET log_dir = ? WHERE id = ?").run(dir, runId);
  }

  finishRun(runId: number, status: Exclude<RunStatus, "running">, durationMs: number): void {
    this.db.prepare("UPDATE runs SET status = ?, finished_at = ?, duration_ms = ? WHERE id = ?").run(status, now(), Math.round(durationMs), runId);
  }

  /** The newest outcome of a step on a host in an earlier apply run (blocked rows say nothing about the host). */
  lastOutcome(stepId: string, host: string): StepRow | null {
    const r = this.db
      .prepare(
        `SELECT s.* FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.step_id = ? AND s.host = ? AND r.mode = 'apply' AND s.status != 'blocked'
         ORDER BY s.run_id DESC LIMIT 1`,
      )
      .get(stepId, host) as RawStep | undefined;
    return r ? stepRow(r) : null;
  }

  /** Records that a step's apply begins on a host; returns the attempt number (counted over all runs). */
  stepStarted(runId: number, key: { stepId: string; host: string; seq: number }, inputsHash: string, logPath: string | null): number {
    this.requireLock();
    const prev = this.lastOutcome(key.stepId, key.host);
    const attempts = (prev?.attempts ?? 0) + 1;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO steps (run_id, step_id, host, seq, status, attempts, inputs_hash, started_at, log_path)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      )
      .run(runId, key.stepId, key.host, key.seq, attempts, inputsHash, now(), logPath);
    return attempts;
  }

  /** Records a final outcome; `skipped` and `blocked` rows are written whole, others update the running row. */
  stepOutcome(
    runId: number,
    key: { stepId: string; host: string; seq: number },
    status: Exclude<StepStatus, "running">,
    detail: { inputsHash: string; durationMs: number; errorCode?: string | null; message?: string | null; logPath?: string | null },
  ): void {
    this.requireLock();
    const existing = this.db.prepare("SELECT 1 FROM steps WHERE run_id = ? AND step_id = ? AND host = ?").get(runId, key.stepId, key.host);
    if (existing) {
      this.db
        .prepare("UPDATE steps SET status = ?, finished_at = ?, duration_ms = ?, error_code = ?, message = ? WHERE run_id = ? AND step_id = ? AND host = ?")
        .run(status, now(), Math.round(detail.durationMs), detail.errorCode ?? null, detail.message ?? null, runId, key.stepId, key.host);
      return;
    }
    const prev = this.lastOutcome(key.stepId, key.host);
    const t = now();
    this.db
      .prepare(
        `INSERT INTO steps (run_id, step_id, host, seq, status, attempts, inputs_hash, started_at, finished_at, duration_ms, error_code, message, log_path)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, key.stepId, key.host, key.seq, status, prev?.attempts ?? 0, detail.inputsHash, t, t, Math.round(detail.durationMs), detail.errorCode ?? null, detail.message ?? null, detail.logPath ?? null);
  }

  run(runId: number): RunRow | null {
    const r = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(runId) as Record<string, unknown> | undefined;
    return r ? runRow(r) : null;
  }

  runs(): RunRow[] {
    return (this.db.prepare("SELECT * FROM runs ORDER BY id").all() as Record<string, unknown>[]).map(runRow);
  }

  steps(runId: number): StepRow[] {
    return (this.db.prepare("SELECT * FROM steps WHERE run_id = ? ORDER BY seq, host").all(runId) as RawStep[]).map(stepRow);
  }

  close(): void {
    try {
      this.releaseLock();
    } finally {
      this.db.close();
    }
  }

  private requireLock(): void {
    if (!this.lockHeld) throw new OmstackError("E_INTERNAL", "the install journal was written without holding its lock", { remedy: "report this as a bug" });
  }
}

function runRow(r: Record<string, unknown>): RunRow {
  return {
    id: r.id as number,
    mode: r.mode as RunRow["mode"],
    status: r.status as RunStatus,
    startedAt: r.started_at as string,
    finishedAt: (r.finished_at as string | null) ?? null,
    durationMs: (r.duration_ms as number | null) ?? null,
    pid: r.pid as number,
    hostname: r.hostname as string,
    options: JSON.parse(r.options as string) as Record<string, unknown>,
    planHash: (r.plan_hash as string | null) ?? null,
    logDir: (r.log_dir as string | null) ?? null,
  };
}

/** Applies every migration not yet in the migrations table, each in its own transaction; refuses a newer schema. */
export function migrateJournal(db: Database.Database, migrations: readonly JournalMigration[]): number {
  db.exec("CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const current = (db.prepare("SELECT MAX(version) AS v FROM migrations").get() as { v: number | null }).v ?? 0;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw stateError(`the install journal has schema version ${current}; this omstack knows versions up to ${newest}`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, now());
    })();
  }
  return Math.max(current, newest);
}
