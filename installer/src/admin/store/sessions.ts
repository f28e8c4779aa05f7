// Login sessions: the browser holds the token, the database holds only its digest (and the CSRF token's).
import type { StateDb } from "../db/open.js";
import { newToken, tokenDigest } from "../auth/tokens.js";

/** A live session joined with its user. */
export interface SessionRecord {
  tokenHash: string;
  csrfHash: string;
  userId: number;
  ip: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
}

/** Session lifetimes: idle timeout and absolute maximum. */
export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}

/** Creates, finds, touches and ends sessions. */
export class SessionStore {
  // Every authenticated request runs these two; prepared once instead of per request.
  private readonly byHash;
  private readonly touch;
  constructor(private readonly db: StateDb) {
    this.byHash = db.prepare("SELECT * FROM sessions WHERE token_hash = ?");
    this.touch = db.prepare("UPDATE sessions SET last_seen = ? WHERE token_hash = ?");
  }

  /** New session; returns the only copies of the raw tokens. */
  create(userId: number, ip: string, nowMs: number, limits: SessionLimits): { token: string; csrfToken: string } {
    const token = newToken();
    const csrfToken = newToken();
    this.db
      .prepare("INSERT INTO sessions (token_hash, user_id, csrf_hash, ip, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(tokenDigest(token), userId, tokenDigest(csrfToken), ip, nowMs, nowMs, nowMs + limits.maxMs);
    return { token, csrfToken };
  }

  /** The session for a cookie token when it is neither expired nor idle too long; refreshes last_seen. */
  find(token: string, nowMs: number, limits: SessionLimits): SessionRecord | undefined {
    const hash = tokenDigest(token);
    const row = this.byHash.get(hash) as
      | { token_hash: string; csrf_hash: string; user_id: number; ip: string; created_at: number; last_seen: number; expires_at: number }
      | undefined;
    if (!row) return undefined;
    if (nowMs >= row.expires_at || nowMs - row.last_seen >= limits.idleMs) {
      this.db.prepare("DELETE FROM sessions WHERE token_hash = ?").run(hash);
      return undefined;
    }
    if (nowMs - row.last_seen > 10_000) this.touch.run(nowMs, hash);
    return { tokenHash: row.token_hash, csrfHash: row.csrf_hash, userId: row.user_id, ip: row.ip, createdAt: row.created_at, lastSeen: nowMs, expiresAt: row.expires_at };
  }

  end(tokenHash: string): void {
    this.db.prepare("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash);
  }

  /** Drops expired sessions; called now and then so the table does not grow. */
  purge(nowMs: number): void {
    this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(nowMs);
  }
}
