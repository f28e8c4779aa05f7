// scripts/pack-app.mjs for real: the tarball unpacked far from any node_modules runs the CLI (native SQLite included),
// holds no devDependency, and packing the same tree again gives the same bytes.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
let work: string;
let packed: string;
let packOutput: string;
let app: string;

/** Runs the unpacked CLI with an environment that offers no other module path. */
async function omstack(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(app, "bin", "omstack.js"), "--log-file", join(work, "cli.log"), ...args], { cwd: work, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input ?? "");
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "omstack-pack-it-"));
  packed = join(work, "omstack-app.tar");
  packOutput = (await run("nice", ["-n", "10", process.execPath, join(ROOT, "scripts", "pack-app.mjs"), "--out", packed], { cwd: ROOT, timeout: 170_000 })).stdout;
  await tar.x({ file: packed, cwd: work });
  app = join(work, "omstack");
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("pack-app", () => {
  it("prints the size and sha256 of what it wrote", () => {
    const sum = createHash("sha256").update(readFileSync(packed)).digest("hex");
    expect(packOutput).toContain(`sha256 ${sum}`);
    expect(packOutput).toMatch(new RegExp(`size ${readFileSync(packed).length} bytes`));
  });

  it("runs from the unpacked folder with no node_modules above it: --version, admin --help, and SQLite through create-user/list-users", async () => {
    expect(existsSync(join(work, "node_modules"))).toBe(false);
    const version = await omstack(["--version"]);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const help = await omstack(["admin", "--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/import-journal/);
    const state = join(work, "state");
    const created = await omstack(["admin", "create-user", "--state-dir", state, "--name", "admin", "--role", "admin", "--password-stdin"], "a long enough password\n");
    expect(created.code, created.stderr).toBe(0);
    const listed = await omstack(["-o", "json", "admin", "list-users", "--state-dir", state]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ users: [{ name: "admin", role: "admin", locked: false }] });
  });

  it("ships production packages only, the console's files, and no build leftovers", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(app, "node_modules", dep, "package.json")), dep).toBe(true);
    for (const dev of Object.keys(pkg.devDependencies)) expect(existsSync(join(app, "node_modules", dev)), dev).toBe(false);
    const shipped = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as Record<string, unknown>;
    expect(shipped.devDependencies).toBeUndefined();
    expect(shipped.scripts).toBeUndefined();
    expect(existsSync(join(app, "installer", "dist", "admin", "web", "index.html"))).toBe(true);
    expect(existsSync(join(app, "installer", "src"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "better-sqlite3", "deps"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "better-sqlite3", "build", "Release", "obj.target"))).toBe(false);
  });

  it("is deterministic: sorted entries, one fixed mtime, no owner names; a second pack of the same build is byte-identical", async () => {
    const paths: string[] = [];
    const meta = new Set<string>();
    await tar.t({ file: packed, onReadEntry: (e) => {
      paths.push(e.path.replace(/\/$/, ""));
      // portable mode leaves a directory's mtime out; every file carries the fixed one
      meta.add(`${e.type} ${e.mtime?.toISOString() ?? "-"} ${e.uid ?? "-"} ${e.uname ?? ""}${e.gname ?? ""}`);
    } });
    expect(paths[0]).toBe("omstack");
    expect(paths).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    const allowed = ["Directory - - ", "File 2020-01-01T00:00:00.000Z - ", "SymbolicLink 2020-01-01T00:00:00.000Z - "];
    expect([...meta].filter((m) => !allowed.includes(m))).toEqual([]);
    expect(meta.has("File 2020-01-01T00:00:00.000Z - ")).toBe(true);
    const again = join(work, "again.tar");
    await run(process.execPath, [join(ROOT, "scripts", "pack-app.mjs"), "--out", again, "--dist", join(app, "installer", "dist")], { cwd: ROOT, timeout: 170_000 });
    expect(createHash("sha256").update(readFileSync(again)).digest("hex")).toBe(createHash("sha256").update(readFileSync(packed)).digest("hex"));
  }, 180_000);

  it("refuses bad arguments with what was wrong and how to fix it", async () => {
    const noOut = await run(process.execPath, [join(ROOT, "scripts", "pack-app.mjs")], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(noOut).toMatchObject({ code: 2, stderr: expect.stringMatching(/--out FILE is required\n  fix: /) });
    const badDist = await run(process.execPath, [join(ROOT, "scripts", "pack-app.mjs"), "--out", join(work, "x.tar"), "--dist", work], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(badDist).toMatchObject({ code: 2, stderr: expect.stringMatching(/holds no cli\/main.js/) });
    const unknown = await run(process.execPath, [join(ROOT, "scripts", "pack-app.mjs"), "--frobnicate"], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown argument "--frobnicate"/) });
  });
});
