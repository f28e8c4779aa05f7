// The install journal's schema as numbered migrations: append new ones, never edit a released one.

/** One schema step, recorded in the migrations table once applied. */
export interface JournalMigration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration in order. */
export const JOURNAL_MIGRATIONS: readonly JournalMigration[] = [
  {
    version: 1,
    name: "runs, steps, lock",
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mode TEXT NOT NULL CHECK (mode IN ('apply','dry-run')),
        status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed','interrupted')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms INTEGER,
        pid INTEGER NOT NULL,
        hostname TEXT NOT NULL,
        options TEXT NOT NULL,
        plan_hash TEXT,
        log_dir TEXT
      );
      CREATE TABLE steps (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step_id TEXT NOT NULL,
        host TEXT NOT NULL,
        seq INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running','verified','skipped','failed','rolled-back','blocked')),
        attempts INTEGER NOT NULL,
        inputs_hash TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms INTEGER,
        error_code TEXT,
        message TEXT,
        log_path TEXT,
        PRIMARY KEY (run_id, step_id, host)
      );
      CREATE INDEX steps_by_key ON steps (step_id, host, run_id);
      CREATE TABLE lock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        pid_start TEXT,
        hostname TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        purpose TEXT NOT NULL
      );
    `,
  },
];
