import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openStateDb, type StateDb } from "../db/open.js";
import { AuditLog, type AuditEntry, type AuditFilter } from "./audit.js";

let dir: string;
let db: StateDb;
let log: AuditLog;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "omstack-audit-store-"));
  db = openStateDb(dir);
  log = new AuditLog(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The entries as the table holds them, newest first, decoded in JS: what every page must be a slice of. */
function reference(filter: (e: AuditEntry) => boolean = () => true): AuditEntry[] {
  const rows = db.prepare("SELECT * FROM audit ORDER BY id DESC").all() as (Omit<AuditEntry, "detail"> & { detail: string | null })[];
  return rows.map((r) => ({ ...r, detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>) })).filter(filter);
}

function seed(n: number): void {
  const actions = ["login", "login.failed", "user.created", "setting.changed"];
  for (let i = 0; i < n; i++) {
    log.append({ actor: i % 3 ? `user${i % 4}` : null, action: actions[i % actions.length]!, target: i % 5 ? `t${i}` : null, ip: i % 2 ? "192.0.2.7" : null, result: i % 7 ? "success" : "failure", detail: i % 2 ? { i, reason: "wrong password" } : null });
  }
}

describe("AuditLog.listJson", () => {
  it("renders each entry exactly as JSON.stringify of the decoded row would (quotes, control characters, unicode, nested detail)", () => {
    const odd = 'quote " backslash \\ newline \n tab \t nul-ish \u0001 emoji 🚀 ümlaut </script>';
    log.append({ actor: odd, action: "setting.changed", target: null, ip: null, result: "success", detail: { from: odd, to: [1, 2.5, null, true, { deep: "x" }], n: -3 } });
    log.append({ actor: null, action: "login", target: "alice", ip: "::1", result: "denied", detail: null });
    const page = log.listJson({}, { page: 1 }, 10);
    expect(page.itemsJson).toBe(JSON.stringify(reference()));
  });

  it("pages newest first with total and next, and a walk by the `next` cursor visits the same entries as a walk by page number", () => {
    seed(23);
    const all = reference();
    const byPage: AuditEntry[] = [];
    for (let p = 1; p <= 5; p++) {
      const r = log.list({}, p, 5);
      expect(r.total).toBe(23);
      expect(r.next).toBe(p < 5 ? r.items.at(-1)!.id : null);
      byPage.push(...r.items);
    }
    expect(byPage).toEqual(all);
    const byCursor: AuditEntry[] = [];
    let before: number | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const r = log.list({}, before === undefined ? { page: 1 } : { page: 1, before }, 5);
      expect(r.total).toBe(23);
      byCursor.push(...r.items);
      if (r.next === null) break;
      before = r.next;
    }
    expect(byCursor).toEqual(all);
  });

  it("says there is no next page when the page ends exactly on the oldest entry", () => {
    seed(10);
    expect(log.list({}, 2, 5).next).toBeNull();
    expect(log.list({}, 1, 5).next).not.toBeNull();
    expect(log.list({}, 3, 5)).toEqual({ items: [], total: 10, next: null });
  });

  it.each<[string, AuditFilter, (e: AuditEntry) => boolean]>([
    ["actor", { actor: "user1" }, (e) => e.actor === "user1"],
    ["exact action", { action: "login" }, (e) => e.action === "login"],
    ["action prefix with *", { action: "login*" }, (e) => e.action.startsWith("login")],
    ["action prefix with .", { action: "user." }, (e) => e.action.startsWith("user.")],
    ["result", { result: "failure" }, (e) => e.result === "failure"],
    ["actor + action + result", { actor: "user2", action: "user.created", result: "success" }, (e) => e.actor === "user2" && e.action === "user.created" && e.result === "success"],
  ])("filters by %s, with the cursor applied after the filter", (_name, filter, keep) => {
    seed(60);
    const want = reference(keep);
    expect(want.length).toBeGreaterThan(3);
    const first = log.list(filter, 1, 3);
    expect(first.total).toBe(want.length);
    expect(first.items).toEqual(want.slice(0, 3));
    const second = log.list(filter, { page: 1, before: first.next! }, 3);
    expect(second.items).toEqual(want.slice(3, 6));
    expect(log.list(filter, { page: 2, before: first.next! }, 3).items).toEqual(want.slice(6, 9));
  });

  it("filters by time: since inclusive, until exclusive", () => {
    for (const [i, at] of ["2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"].entries()) {
      log.append({ actor: "a", action: "login", target: `t${i}`, ip: null, result: "success", detail: null, at: new Date(at) });
    }
    const r = log.list({ since: "2026-01-02T00:00:00.000Z", until: "2026-01-03T00:00:00.000Z" }, 1, 10);
    expect(r.items.map((e) => e.target)).toEqual(["t1"]);
    expect(r.total).toBe(1);
  });

  it("keeps the total right when entries are added after it was counted, also by another connection (the CLI)", () => {
    seed(8);
    expect(log.list({ action: "login" }, 1, 2).total).toBe(2);
    log.append({ actor: "x", action: "login", target: null, ip: null, result: "success", detail: null });
    expect(log.list({ action: "login" }, 1, 2).total).toBe(3);
    const other = openStateDb(dir);
    new AuditLog(other).append({ actor: "cli", action: "login", target: null, ip: "local", result: "success", detail: null });
    other.close();
    const r = log.list({ action: "login" }, 1, 2);
    expect(r.total).toBe(4);
    expect(r.items[0]!.actor).toBe("cli");
  });

  it("prepares each query once, not once per request", () => {
    seed(20);
    const prepare = vi.spyOn(db, "prepare");
    for (let i = 0; i < 3; i++) {
      log.listJson({}, { page: 1 }, 5);
      log.listJson({ action: "login" }, { page: 2 }, 5);
      log.listJson({ action: "login" }, { page: 1, before: 10 }, 5);
    }
    const first = prepare.mock.calls.length;
    for (let i = 0; i < 20; i++) {
      log.listJson({}, { page: 1 + (i % 3) }, 5);
      log.listJson({ action: "login" }, { page: 1, before: 20 - i }, 5);
    }
    expect(first).toBeGreaterThan(0);
    expect(prepare.mock.calls.length).toBe(first);
  });
});

describe("AuditLog.listJson on a large table", () => {
  it("answers an action prefix at a deep page number and past the end (every match of each action is read)", () => {
    const insert = db.prepare("INSERT INTO audit (at, actor, action, target, ip, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
    db.transaction(() => {
      for (let i = 0; i < 300_000; i++) insert.run("2026-01-01T00:00:00.000Z", "a", i % 3 ? "login" : "login.failed", null, null, "success", null);
    })();
    const deep = log.list({ action: "login*" }, 5999, 50); // entries 299,901–299,950 of 300,000
    expect(deep.total).toBe(300_000);
    expect(deep.items.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => 300_000 - 299_900 - i));
    expect(log.list({ action: "login*" }, 1_000_000, 500)).toEqual({ items: [], total: 300_000, next: null });
  });
});

describe("AuditLog rendered-entry cache", () => {
  it("serves every page right while it evicts, with its size bound kept, and passes over entries too large to keep", () => {
    const small = new AuditLog(db, { renderedMaxChars: 1500 }); // ~8 typical entries
    seed(40);
    small.append({ actor: "big", action: "journal.imported", target: null, ip: null, result: "success", detail: { blob: "x".repeat(400) } });
    const all = reference();
    for (let round = 0; round < 2; round++) {
      for (const [page, size] of [[1, 7], [2, 7], [1, 3], [5, 7], [1, 12], [3, 12], [2, 5]] as const) {
        expect(small.list({}, page, size).items).toEqual(all.slice((page - 1) * size, page * size));
        const kept = (small as unknown as { renderedChars: number; rendered: Map<number, string> });
        expect(kept.renderedChars).toBeLessThanOrEqual(1500);
        expect(kept.renderedChars).toBe([...kept.rendered.values()].reduce((n, j) => n + j.length, 0));
        expect(kept.rendered.has(all[0]!.id)).toBe(false); // 400+ characters: over a quarter of the bound
        expect(kept.rendered.size).toBeGreaterThan(3);
      }
    }
  });
});

describe("AuditLog.iterate", () => {
  it("yields every matching entry oldest first across batches", () => {
    seed(25);
    const got = [...log.iterate({ result: "success" }, 4)];
    expect(got).toEqual(reference((e) => e.result === "success").reverse());
  });
});
