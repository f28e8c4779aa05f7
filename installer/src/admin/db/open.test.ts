import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.js";
import { migrate, openStateDb } from "./open.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "omstack-db-"));
  dirs.push(d);
  return d;
};

describe("openStateDb", () => {
  it("creates a 0600 WAL database at the newest schema, and reopening changes nothing", () => {
    const dir = join(tmp(), "state");
    const db = openStateDb(dir);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    expect(statSync(join(dir, "admin.db")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const again = openStateDb(dir);
    expect(migrate(again, MIGRATIONS)).toBe(MIGRATIONS.at(-1)!.version);
    again.close();
  });

  it("refuses a database from a newer release and a state dir that is a file", () => {
    const dir = tmp();
    const db = openStateDb(dir);
    db.pragma("user_version = 999");
    expect(() => migrate(db, MIGRATIONS)).toThrow(/schema version 999/);
    db.close();
    const file = join(tmp(), "f");
    writeFileSync(file, "x");
    expect(() => openStateDb(file)).toThrow(expect.objectContaining({ code: "E_ADMIN_STATE_DIR" }));
  });
});
