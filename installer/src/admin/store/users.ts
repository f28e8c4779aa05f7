// Users of the admin service: names, roles, scrypt hashes, and the per-account lockout counters.
import { OmstackError } from "../../errors.js";
import type { StateDb } from "../db/open.js";
import { isRole, type Role } from "../auth/roles.js";

/** A user as the API shows it: never the hash. */
export interface User {
  id: number;
  name: string;
  role: Role;
  lockedUntil: string | null;
  failedLogins: number;
  createdAt: string;
  updatedAt: string;
}

interface UserRow {
  id: number;
  name: string;
  role: string;
  password_hash: string;
  failed_logins: number;
  locked_until: number | null;
  created_at: string;
  updated_at: string;
}

/** User names: letters, digits and . _ - ; 1–64 characters, starting with a letter or digit. */
export const USER_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/** Reads and writes the users table; hashing happens before, outside (auth/password.ts). */
export class UserStore {
  // The auth hook looks the session's user up on every request; prepared once instead of per request.
  private readonly selectById;
  constructor(private readonly db: StateDb) {
    this.selectById = db.prepare("SELECT * FROM users WHERE id = ?");
  }

  list(): User[] {
    return (this.db.prepare("SELECT * FROM users ORDER BY name").all() as UserRow[]).map(toUser);
  }

  /** The user and its stored hash, for login; undefined when no such user. */
  findForLogin(name: string): { user: User; hash: string; lockedUntilMs: number | null } | undefined {
    const row = this.db.prepare("SELECT * FROM users WHERE name = ?").get(name) as UserRow | undefined;
    return row ? { user: toUser(row), hash: row.password_hash, lockedUntilMs: row.locked_until } : undefined;
  }

  byId(id: number): User | undefined {
    const row = this.selectById.get(id) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  byName(name: string): User | undefined {
    const row = this.db.prepare("SELECT * FROM users WHERE name = ?").get(name) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  create(name: string, role: Role, passwordHash: string, now: Date): User {
    if (!new RegExp(USER_NAME_PATTERN).test(name)) {
      throw new OmstackError("E_ADMIN_BAD_REQUEST", `a user name of 1–64 letters, digits, '.', '_' or '-' is required; got ${JSON.stringify(name)}`, {
        remedy: "choose a name such as 'alice' or 'ops.team'",
      });
    }
    if (this.byName(name)) {
      throw new OmstackError("E_ADMIN_USER_EXISTS", `a user named ${name} already exists`, {
        remedy: "choose another name, or change that user's role or password instead",
      });
    }
    const at = now.toISOString();
    const info = this.db
      .prepare("INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
      .run(name, role, passwordHash, at, at);
    return this.byId(Number(info.lastInsertRowid))!;
  }

  /** Replaces the hash, clears the lockout and ends every session of the user. */
  setPassword(name: string, passwordHash: string, now: Date): User {
    const user = this.require(name);
    this.db.transaction(() => {
      this.db.prepare("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?").run(passwordHash, now.toISOString(), user.id);
      this.db.prepare("DELETE FROM sessions WHERE user_id = ?").run(user.id);
    })();
    return this.byId(user.id)!;
  }

  setRole(name: string, role: Role, now: Date): User {
    const user = this.require(name);
    if (user.role === "admin" && role !== "admin") this.keepOneAdmin(user);
    this.db.transaction(() => {
      this.db.prepare("UPDATE users SET role = ?, updated_at = ? WHERE id = ?").run(role, now.toISOString(), user.id);
      this.db.prepare("DELETE FROM sessions WHERE user_id = ?").run(user.id);
    })();
    return this.byId(user.id)!;
  }

  unlock(name: string, now: Date): User {
    const user = this.require(name);
    this.db.prepare("UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?").run(now.toISOString(), user.id);
    return this.byId(user.id)!;
  }

  remove(name: string): void {
    const user = this.require(name);
    if (user.role === "admin") this.keepOneAdmin(user);
    this.db.prepare("DELETE FROM users WHERE id = ?").run(user.id);
  }

  /** Counts a failed login; locks the account for `lockMs` once `maxFailures` is reached. Returns the lock end, if locked. */
  recordFailure(id: number, maxFailures: number, lockMs: number, nowMs: number): number | null {
    const row = this.db.prepare("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins").get(id) as { failed_logins: number };
    if (row.failed_logins >= maxFailures) {
      const until = nowMs + lockMs;
      this.db.prepare("UPDATE users SET locked_until = ?, failed_logins = 0 WHERE id = ?").run(until, id);
      return until;
    }
    return null;
  }

  recordSuccess(id: number): void {
    this.db.prepare("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?").run(id);
  }

  count(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM users").get() as { n: number }).n;
  }

  /** The user, or E_ADMIN_USER_UNKNOWN. */
  require(name: string): User {
    const user = this.byName(name);
    if (!user) {
      throw new OmstackError("E_ADMIN_USER_UNKNOWN", `no user named ${name} exists`, {
        remedy: "list the users (GET /api/v1/users, or the Users page) and use one of those names",
      });
    }
    return user;
  }

  private keepOneAdmin(user: User): void {
    const admins = (this.db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND id != ?").get(user.id) as { n: number }).n;
    if (admins === 0) {
      throw new OmstackError("E_ADMIN_LAST_ADMIN", `${user.name} is the only admin; at least one admin is required`, {
        remedy: "give another user the admin role first",
      });
    }
  }
}

function toUser(row: UserRow): User {
  if (!isRole(row.role)) throw new Error(`user ${row.name} has an unknown role ${row.role}`);
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    lockedUntil: row.locked_until === null ? null : new Date(row.locked_until).toISOString(),
    failedLogins: row.failed_logins,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
