// The audit log: append-only (SQLite triggers refuse UPDATE and DELETE), paged and filtered reads, JSON-lines export.
import type { StateDb } from "../db/open.js";

/** What an entry says: who, what, when, from where, result. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  result: "success" | "failure" | "denied";
  detail: Record<string, unknown> | null;
}

/** What a caller hands to append(); id and time are assigned here. */
export type AuditInput = Omit<AuditEntry, "id" | "at"> & { at?: Date };

/** Filters of the list and the export; all optional and combined with AND. */
export interface AuditFilter {
  actor?: string;
  action?: string; // exact, or a prefix ending in '.' or '*' (e.g. "user." or "login*")
  result?: AuditEntry["result"];
  since?: string; // ISO time, inclusive
  until?: string; // ISO time, exclusive
}

interface Row {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  result: AuditEntry["result"];
  detail: string | null;
}

/** Writes and reads the audit table. */
export class AuditLog {
  private readonly insert;
  private readonly counts = new Map<string, { n: number; maxId: number }>();
  constructor(private readonly db: StateDb) {
    this.insert = db.prepare("INSERT INTO audit (at, actor, action, target, ip, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
  }

  append(e: AuditInput): number {
    const info = this.insert.run((e.at ?? new Date()).toISOString(), e.actor, e.action, e.target, e.ip, e.result, e.detail ? JSON.stringify(e.detail) : null);
    return Number(info.lastInsertRowid);
  }

  /** One page, newest first, and the total matching count. */
  list(filter: AuditFilter, page: number, pageSize: number): { items: AuditEntry[]; total: number } {
    const { where, args } = whereClause(filter);
    const total = this.count(where, args);
    const rows = this.db.prepare(`SELECT * FROM audit ${where} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...args, pageSize, (page - 1) * pageSize) as Row[];
    return { items: rows.map(toEntry), total };
  }

  /** Matching rows; the table is append-only, so a cached count only needs the rows added since it was taken. */
  private count(where: string, args: unknown[]): number {
    const key = where + "\u0000" + JSON.stringify(args);
    const cached = this.counts.get(key);
    const after = cached?.maxId ?? 0;
    const extra = this.db.prepare(`SELECT count(*) AS n, max(id) AS m FROM audit ${where ? where + " AND" : "WHERE"} id > ?`).get(...args, after) as { n: number; m: number | null };
    const entry = { n: (cached?.n ?? 0) + extra.n, maxId: Math.max(after, extra.m ?? 0) };
    if (this.counts.size > 256) this.counts.clear();
    this.counts.set(key, entry);
    return entry.n;
  }

  /** Every matching entry, oldest first, fetched in batches by id so the connection is never held between batches. */
  *iterate(filter: AuditFilter, batch = 1000): Generator<AuditEntry> {
    const { where, args } = whereClause(filter);
    const stmt = this.db.prepare(`SELECT * FROM audit ${where ? where + " AND" : "WHERE"} id > ? ORDER BY id ASC LIMIT ?`);
    let after = 0;
    for (;;) {
      const rows = stmt.all(...args, after, batch) as Row[];
      for (const row of rows) yield toEntry(row);
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}

function whereClause(f: AuditFilter): { where: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (f.actor) {
    parts.push("actor = ?");
    args.push(f.actor);
  }
  if (f.action) {
    if (f.action.endsWith("*") || f.action.endsWith(".")) {
      parts.push("action >= ? AND action < ?");
      const prefix = f.action.replace(/\*$/, "");
      args.push(prefix, prefix + "\uffff");
    } else {
      parts.push("action = ?");
      args.push(f.action);
    }
  }
  if (f.result) {
    parts.push("result = ?");
    args.push(f.result);
  }
  if (f.since) {
    parts.push("at >= ?");
    args.push(f.since);
  }
  if (f.until) {
    parts.push("at < ?");
    args.push(f.until);
  }
  return { where: parts.length ? "WHERE " + parts.join(" AND ") : "", args };
}

function toEntry(r: Row): AuditEntry {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, ip: r.ip, result: r.result, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null };
}
