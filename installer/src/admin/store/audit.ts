// The audit log: append-only (SQLite triggers refuse UPDATE and DELETE), paged and filtered reads, JSON-lines export.
import type Database from "better-sqlite3";
import type { StateDb } from "../db/open.js";

type Statement = Database.Statement;

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

/** Where a page starts: the n-th page of `pageSize` entries (1-based), counted from the newest entry or from a cursor. */
export interface AuditPageAt {
  page: number;
  /** Keyset cursor: only entries with an id below this one (the `next` of the page before). */
  before?: number;
}

/** One page, newest first, as the JSON array text SQLite rendered, with the matching total and the next page's cursor. */
export interface AuditPageJson {
  /** A JSON array of AuditEntry objects, ready to be embedded in a response body. */
  itemsJson: string;
  /** Every entry matching the filter (the cursor does not narrow it). */
  total: number;
  /** `before` for the following page, or null when this page holds the oldest matching entry. */
  next: number | null;
}

/** SQLite renders each row as the JSON the API returns, so an entry never becomes a JS object only to be stringified again. */
const ENTRY_JSON = "json_object('id', id, 'at', at, 'actor', actor, 'action', action, 'target', target, 'ip', ip, 'result', result, 'detail', json(detail))";

/** The distinct actions in [lo, hi), found by a skip-scan over audit_action: one index seek per action, not per row. */
const DISTINCT_ACTIONS = `WITH RECURSIVE a(x) AS (
  SELECT (SELECT min(action) FROM audit WHERE action >= @lo AND action < @hi)
  UNION ALL SELECT (SELECT min(action) FROM audit WHERE action > a.x AND action < @hi) FROM a WHERE a.x IS NOT NULL
) SELECT x FROM a WHERE x IS NOT NULL`;

/** How much rendered JSON is kept by default, in UTF-16 code units (≈ 8 MB of memory; ~25,000 typical entries). */
const RENDERED_MAX_CHARS = 4_000_000;

/** Writes and reads the audit table. */
export class AuditLog {
  private readonly insert;
  /** Prepared once per SQL text; the texts come from a handful of filter shapes, so the map stays small. */
  private readonly statements = new Map<string, Statement>();
  private readonly counts = new Map<string, { n: number; maxId: number }>();
  /** id → the entry's JSON; past renderedMaxChars the oldest insertions go first; a very large entry (a quarter of it, or 64 Ki) is not kept. */
  private readonly rendered = new Map<number, string>();
  private renderedChars = 0;
  private readonly renderedMaxChars: number;
  constructor(
    private readonly db: StateDb,
    opts: { renderedMaxChars?: number } = {},
  ) {
    this.renderedMaxChars = opts.renderedMaxChars ?? RENDERED_MAX_CHARS;
    this.insert = db.prepare("INSERT INTO audit (at, actor, action, target, ip, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
  }

  append(e: AuditInput): number {
    const info = this.insert.run((e.at ?? new Date()).toISOString(), e.actor, e.action, e.target, e.ip, e.result, e.detail ? JSON.stringify(e.detail) : null);
    return Number(info.lastInsertRowid);
  }

  /** One page, newest first, as entries, and the total matching count (the API sends listJson()'s text instead). */
  list(filter: AuditFilter, page: number | AuditPageAt, pageSize: number): { items: AuditEntry[]; total: number; next: number | null } {
    const { itemsJson, total, next } = this.listJson(filter, typeof page === "number" ? { page } : page, pageSize);
    return { items: JSON.parse(itemsJson) as AuditEntry[], total, next };
  }

  /**
   * One page, newest first, as JSON text, and the total matching count. The page's ids come from the database on every
   * call; one id more than the page is read to tell whether an older entry exists, so `next` is null exactly on the
   * last page.
   */
  listJson(filter: AuditFilter, at: AuditPageAt, pageSize: number): AuditPageJson {
    const { where, args } = whereClause(filter);
    const total = this.count(where, args);
    const offset = (at.page - 1) * pageSize;
    const ids = isPrefix(filter.action) ? this.prefixPageIds(filter, at.before, offset, pageSize + 1) : this.directPageIds(where, args, at.before, offset, pageSize + 1);
    const more = ids.length > pageSize;
    if (more) ids.length = pageSize;
    return { itemsJson: this.render(ids), total, next: more ? ids[ids.length - 1]! : null };
  }

  /** Exact filters: the (actor, id) / (action, id) indexes or the rowid already give newest-first order. */
  private directPageIds(where: string, args: unknown[], before: number | undefined, offset: number, limit: number): number[] {
    const sql = `SELECT id FROM audit ${where} ${before === undefined ? "" : where ? "AND id < ?" : "WHERE id < ?"} ORDER BY id DESC LIMIT ? OFFSET ?`;
    const pageArgs = before === undefined ? [...args, limit, offset] : [...args, before, limit, offset];
    return this.statement(sql, "pluck").all(...pageArgs) as number[];
  }

  /**
   * An action prefix ("user.*") spans several actions, so the action index yields them sorted by action, not id, and
   * SQLite would sort every match (~15 ms for 30k matches). Instead: the distinct actions under the prefix (one index
   * seek each), the newest `offset + limit` ids of each exact action (already in id order), merged here.
   */
  private prefixPageIds(filter: AuditFilter, before: number | undefined, offset: number, limit: number): number[] {
    const prefix = filter.action!.replace(/\*$/, "");
    const actions = this.statement(DISTINCT_ACTIONS, "pluck").all({ lo: prefix, hi: prefix + "\uffff" }) as string[];
    // A deep page number reads up to every match of each action (bounded by the table), hence concat, not push(...ids).
    let ids: number[] = [];
    for (const action of actions) {
      const { where, args } = whereClause({ ...filter, action }, true);
      const sql = `SELECT id FROM audit ${where} ${before === undefined ? "" : "AND id < ?"} ORDER BY id DESC LIMIT ?`;
      ids = ids.concat(this.statement(sql, "pluck").all(...args, ...(before === undefined ? [] : [before]), offset + limit) as number[]);
    }
    return ids.sort((a, b) => b - a).slice(offset, offset + limit);
  }

  /**
   * The entries with these ids, in this order, as a JSON array. Entries never change (the triggers refuse UPDATE and
   * DELETE), so an entry's JSON, once rendered by SQLite, is kept and reused: a cached entry cannot be out of date.
   */
  private render(ids: number[]): string {
    const out = ids.map((id) => this.rendered.get(id));
    const missing = ids.filter((_, i) => out[i] === undefined);
    if (missing.length > 0) {
      const rows = new Map(this.statement(`SELECT id, ${ENTRY_JSON} FROM audit WHERE id IN (SELECT value FROM json_each(?))`, "raw").all(JSON.stringify(missing)) as [number, string][]);
      ids.forEach((id, i) => {
        if (out[i] !== undefined) return;
        const json = rows.get(id);
        if (json === undefined) throw new Error(`audit entry ${id} vanished from the append-only audit table`);
        out[i] = json;
        this.keepRendered(id, json);
      });
    }
    return `[${out.join(",")}]`;
  }

  private keepRendered(id: number, json: string): void {
    if (json.length > Math.min(64 * 1024, this.renderedMaxChars / 4)) return;
    for (const [oldId, old] of this.rendered) {
      if (this.renderedChars + json.length <= this.renderedMaxChars) break;
      this.rendered.delete(oldId);
      this.renderedChars -= old.length;
    }
    this.rendered.set(id, json);
    this.renderedChars += json.length;
  }

  /**
   * Matching rows. The table is append-only (rows never change or go), so a cached count stays right by adding the rows
   * inserted since it was taken, by this process or another (the CLI). The first count uses the filter's index; the
   * catch-up reads only the new rows by rowid (NOT INDEXED), since an index range such as an action prefix cannot be
   * bounded by id and would be walked whole on every request.
   */
  private count(where: string, args: unknown[]): number {
    const key = where + "\u0000" + JSON.stringify(args);
    const cached = this.counts.get(key);
    const after = cached?.maxId ?? 0;
    const from = cached ? "audit NOT INDEXED" : "audit";
    const extra = this.statement(`SELECT count(*) AS n, max(id) AS m FROM ${from} ${where ? where + " AND" : "WHERE"} id > ?`).get(...args, after) as { n: number; m: number | null };
    const entry = { n: (cached?.n ?? 0) + extra.n, maxId: Math.max(after, extra.m ?? 0) };
    if (this.counts.size > 256) this.counts.clear();
    this.counts.set(key, entry);
    return entry.n;
  }

  private statement(sql: string, mode: "object" | "raw" | "pluck" = "object"): Statement {
    const key = `${mode}:${sql}`;
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (mode === "raw") stmt.raw(true);
      if (mode === "pluck") stmt.pluck(true);
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  /** Every matching entry, oldest first, fetched in batches by id so the connection is never held between batches. */
  *iterate(filter: AuditFilter, batch = 1000): Generator<AuditEntry> {
    const { where, args } = whereClause(filter);
    const stmt = this.statement(`SELECT * FROM audit ${where ? where + " AND" : "WHERE"} id > ? ORDER BY id ASC LIMIT ?`);
    let after = 0;
    for (;;) {
      const rows = stmt.all(...args, after, batch) as Row[];
      for (const row of rows) yield toEntry(row);
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}

function isPrefix(action: string | undefined): action is string {
  return action !== undefined && (action.endsWith("*") || action.endsWith("."));
}

/** The WHERE clause of a filter; `exactAction` compares the action as is, even if it ends in '.' or '*'. */
function whereClause(f: AuditFilter, exactAction = false): { where: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (f.actor) {
    parts.push("actor = ?");
    args.push(f.actor);
  }
  if (f.action) {
    if (!exactAction && isPrefix(f.action)) {
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
