// The admin state database schema, as numbered migrations: a database only ever moves forward, one version at a time.

/** One schema step; `version` is stored in PRAGMA user_version once the SQL has run. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration in order; append new ones, never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "users, sessions, audit, settings",
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin','operator','viewer')),
        password_hash TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_hash TEXT NOT NULL,
        ip TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        target TEXT,
        ip TEXT,
        result TEXT NOT NULL CHECK (result IN ('success','failure','denied')),
        detail TEXT
      );
      CREATE INDEX audit_action ON audit(action, id);
      CREATE INDEX audit_actor ON audit(actor, id);
      CREATE INDEX audit_at ON audit(at);
      CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT
      );
    `,
  },
  {
    version: 2,
    name: "cluster state written by the installer: facts, nodes, services, certificates, etcd, versions",
    sql: `
      CREATE TABLE host_facts (
        host TEXT PRIMARY KEY,
        facts TEXT NOT NULL,
        probed_at TEXT
      );
      CREATE TABLE nodes (
        name TEXT PRIMARY KEY,
        roles TEXT NOT NULL DEFAULT '[]',
        ready INTEGER,
        kubelet_version TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE system_pods (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        node TEXT,
        phase TEXT NOT NULL,
        ready INTEGER NOT NULL,
        restarts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (namespace, name)
      );
      CREATE TABLE services (
        name TEXT PRIMARY KEY,
        version TEXT,
        status TEXT NOT NULL CHECK (status IN ('healthy','degraded','down','unknown')),
        ui_path TEXT,
        checks TEXT NOT NULL DEFAULT '[]',
        updated_at TEXT NOT NULL
      );
      CREATE TABLE certificates (
        name TEXT PRIMARY KEY,
        not_after TEXT NOT NULL
      );
      CREATE TABLE etcd_members (
        name TEXT PRIMARY KEY,
        healthy INTEGER NOT NULL,
        db_size_bytes INTEGER,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE components (
        name TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: "install/upgrade runs with per-step logs and an event stream; bundles",
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('install','upgrade')),
        bundle_id INTEGER,
        from_version TEXT,
        to_version TEXT,
        status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed','rolled_back')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        started_by TEXT,
        error TEXT
      );
      CREATE TABLE run_steps (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        step_id TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','skipped','rolled_back')),
        started_at TEXT,
        finished_at TEXT,
        log TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (run_id, step_id)
      );
      CREATE TABLE run_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        step_id TEXT,
        message TEXT NOT NULL,
        percent INTEGER
      );
      CREATE INDEX run_events_run ON run_events(run_id, id);
      CREATE TABLE bundles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        sha256 TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        components TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('upload','path')),
        added_at TEXT NOT NULL,
        added_by TEXT
      );
    `,
  },
  {
    version: 4,
    name: "runs imported from the installer's journal, keyed by where they came from",
    sql: `
      ALTER TABLE runs ADD COLUMN source TEXT;
      CREATE UNIQUE INDEX runs_source ON runs(source) WHERE source IS NOT NULL;
    `,
  },
];
