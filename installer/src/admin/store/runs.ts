// Install and upgrade runs: one row per run, its steps with their logs, and an ordered event stream for progress.
import type { StateDb } from "../db/open.js";

export type RunStatus = "running" | "succeeded" | "failed" | "rolled_back";

export interface RunSummary {
  id: number;
  kind: "install" | "upgrade";
  bundleId: number | null;
  fromVersion: string | null;
  toVersion: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  startedBy: string | null;
  error: string | null;
}

export interface RunStep {
  stepId: string;
  title: string;
  status: "pending" | "running" | "done" | "failed" | "skipped" | "rolled_back";
  startedAt: string | null;
  finishedAt: string | null;
  log: string;
}

export interface RunEvent {
  id: number;
  runId: number;
  at: string;
  type: string;
  stepId: string | null;
  message: string;
  percent: number | null;
}

/** Longest log kept per step; older lines are dropped first so the tail (where failures are) stays. */
const STEP_LOG_MAX = 256 * 1024;

/** Reads and writes runs, steps and events. */
export class RunStore {
  constructor(private readonly db: StateDb) {}

  create(kind: RunSummary["kind"], bundleId: number | null, fromVersion: string | null, toVersion: string | null, by: string | null, now: Date): number {
    const info = this.db
      .prepare("INSERT INTO runs (kind, bundle_id, from_version, to_version, status, started_at, started_by) VALUES (?, ?, ?, ?, 'running', ?, ?)")
      .run(kind, bundleId, fromVersion, toVersion, now.toISOString(), by);
    return Number(info.lastInsertRowid);
  }

  list(limit: number): RunSummary[] {
    return (this.db.prepare("SELECT * FROM runs ORDER BY id DESC LIMIT ?").all(limit) as RunRow[]).map(toSummary);
  }

  get(id: number): (RunSummary & { steps: RunStep[] }) | undefined {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    if (!row) return undefined;
    const steps = (this.db.prepare("SELECT * FROM run_steps WHERE run_id = ? ORDER BY rowid").all(id) as { step_id: string; title: string; status: RunStep["status"]; started_at: string | null; finished_at: string | null; log: string }[]).map((s) => ({
      stepId: s.step_id,
      title: s.title,
      status: s.status,
      startedAt: s.started_at,
      finishedAt: s.finished_at,
      log: s.log,
    }));
    return { ...toSummary(row), steps };
  }

  running(): RunSummary | undefined {
    // Imported install runs (source set) are the installer's to finish; they never block an upgrade here.
    const row = this.db.prepare("SELECT * FROM runs WHERE status = 'running' AND source IS NULL ORDER BY id DESC LIMIT 1").get() as RunRow | undefined;
    return row ? toSummary(row) : undefined;
  }

  event(runId: number, type: string, stepId: string | null, message: string, percent: number | null, now: Date): number {
    const info = this.db.prepare("INSERT INTO run_events (run_id, at, type, step_id, message, percent) VALUES (?, ?, ?, ?, ?, ?)").run(runId, now.toISOString(), type, stepId, message, percent);
    return Number(info.lastInsertRowid);
  }

  eventsAfter(runId: number, afterId: number): RunEvent[] {
    return (this.db.prepare("SELECT * FROM run_events WHERE run_id = ? AND id > ? ORDER BY id LIMIT 500").all(runId, afterId) as { id: number; run_id: number; at: string; type: string; step_id: string | null; message: string; percent: number | null }[]).map((r) => ({
      id: r.id,
      runId: r.run_id,
      at: r.at,
      type: r.type,
      stepId: r.step_id,
      message: r.message,
      percent: r.percent,
    }));
  }

  stepStart(runId: number, stepId: string, title: string, now: Date): void {
    this.db
      .prepare("INSERT INTO run_steps (run_id, step_id, title, status, started_at) VALUES (?, ?, ?, 'running', ?) ON CONFLICT(run_id, step_id) DO UPDATE SET status = 'running', started_at = excluded.started_at")
      .run(runId, stepId, title, now.toISOString());
  }

  stepLog(runId: number, stepId: string, line: string): void {
    this.db
      .prepare("UPDATE run_steps SET log = substr(log || ? || char(10), -?) WHERE run_id = ? AND step_id = ?")
      .run(line, STEP_LOG_MAX, runId, stepId);
  }

  stepEnd(runId: number, stepId: string, status: RunStep["status"], now: Date): void {
    this.db.prepare("UPDATE run_steps SET status = ?, finished_at = ? WHERE run_id = ? AND step_id = ?").run(status, now.toISOString(), runId, stepId);
  }

  finish(runId: number, status: Exclude<RunStatus, "running">, error: string | null, now: Date): void {
    this.db.prepare("UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?").run(status, now.toISOString(), error, runId);
  }

  /** Runs this service left 'running' when it died: marked failed so a new one may start (imported runs are left as imported). */
  abandonRunning(now: Date): number {
    return this.db.prepare("UPDATE runs SET status = 'failed', finished_at = ?, error = 'the admin service stopped while this run was in progress' WHERE status = 'running' AND source IS NULL").run(now.toISOString()).changes;
  }
}

interface RunRow {
  id: number;
  kind: RunSummary["kind"];
  bundle_id: number | null;
  from_version: string | null;
  to_version: string | null;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  started_by: string | null;
  error: string | null;
}

function toSummary(r: RunRow): RunSummary {
  return { id: r.id, kind: r.kind, bundleId: r.bundle_id, fromVersion: r.from_version, toVersion: r.to_version, status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, startedBy: r.started_by, error: r.error };
}
