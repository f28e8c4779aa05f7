// Opens (and creates) the admin state database: WAL, foreign keys, owner-only files, schema migrated.
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { OmstackError } from "../../errors.js";
import { MIGRATIONS, type Migration } from "./migrations.js";

/** The connection type every store takes; one per process. */
export type StateDb = Database.Database;

/** File name of the database inside the state directory. */
export const STATE_DB_FILE = "admin.db";

/** Creates the state directory (0700) and the database (0600), then migrates it to the newest schema. */
export function openStateDb(stateDir: string): StateDb {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    if (!statSync(stateDir).isDirectory()) throw new Error("not a directory");
  } catch (e) {
    throw new OmstackError("E_ADMIN_STATE_DIR", `the state directory ${stateDir} is required to be a writable directory; it could not be created or used (${(e as Error).message})`, {
      remedy: "pass --state-dir with a directory this user can write, e.g. /var/lib/omstack/admin",
      cause: e,
    });
  }
  const file = join(stateDir, STATE_DB_FILE);
  const fresh = !existsSync(file);
  let db: StateDb;
  try {
    db = new Database(file);
  } catch (e) {
    throw new OmstackError("E_ADMIN_STATE_DIR", `the state database ${file} could not be opened: ${(e as Error).message}`, {
      remedy: "check the file's owner and mode (0600, owned by the service user) and that the disk is not full",
      cause: e,
    });
  }
  if (fresh) chmodSync(file, 0o600);
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  db.pragma("synchronous = NORMAL");
  migrate(db, MIGRATIONS);
  // WAL side files inherit the process umask; keep them owner-only as well.
  for (const side of ["-wal", "-shm"]) {
    if (existsSync(file + side)) chmodSync(file + side, 0o600);
  }
  return db;
}

/** Applies every migration newer than the database's user_version, each in its own transaction. */
export function migrate(db: StateDb, migrations: readonly Migration[]): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new OmstackError("E_ADMIN_STATE_DIR", `the state database has schema version ${current}; this omstack knows versions up to ${newest}`, {
      remedy: "run the admin service from the omstack release that wrote this database, or a newer one",
    });
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return db.pragma("user_version", { simple: true }) as number;
}
