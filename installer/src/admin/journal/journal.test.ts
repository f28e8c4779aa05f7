// The journal handoff's admin side over real databases: an install.db written by the installer's own Journal and
// FileRunLogs, exported, imported into a real admin state DB — twice, then again after the run finished.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Journal, JOURNAL_FILE } from "../../state/journal.js";
import { FileRunLogs } from "../../state/runLogs.js";
import { openStateDb } from "../db/open.js";
import { RunStore } from "../store/runs.js";
import { AuditLog } from "../store/audit.js";
import { importJournalFile } from "../cli.js";
import { exportJournal, stepLogLines } from "./export.js";
import { JOURNAL_EXPORT_FORMAT, parseJournalExport, runSourceKey } from "./format.js";
import { IMPORT_RECEIPT_FILE, importJournal, mapRun } from "./import.js";
import { localJournalSource } from "./handoff-source.js";
import { missingRuns } from "../../steps/admin/journal-handoff.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "omstack-handoff-test-"));
  dirs.push(d);
  return d;
};

/** An installer state dir with one finished failed run, one dry-run, and one run still in progress. */
function installerState(): { dir: string; journal: Journal; current: number } {
  const dir = tmp();
  const j = Journal.open(dir);
  j.acquireLock("install");
  const r1 = j.startRun({ mode: "apply", options: { bundleVersion: "1.0.0" }, planHash: "p1" });
  const logs1 = new FileRunLogs(dir, r1);
  const k = (stepId: string, host: string, seq: number) => ({ stepId, host, seq });
  j.stepStarted(r1, k("host.sysctls", "cp-1", 0), "h1", logs1.pathFor("cp-1"));
  logs1.write("cp-1", "[host.sysctls] $ write /etc/sysctl.d/90-omstack.conf (52 bytes, mode 644)");
  logs1.write("cp-1", "[host.sysctls] $ sysctl -p\n  net.ipv4.ip_forward = 1");
  logs1.write("cp-1", "[host.swap-off] unrelated line");
  j.stepOutcome(r1, k("host.sysctls", "cp-1", 0), "verified", { inputsHash: "h1", durationMs: 12 });
  j.stepStarted(r1, k("host.sysctls", "gpu-1", 0), "h1", logs1.pathFor("gpu-1"));
  logs1.write("gpu-1", "[host.sysctls] $ sysctl -p");
  j.stepOutcome(r1, k("host.sysctls", "gpu-1", 0), "failed", { inputsHash: "h1", durationMs: 40, errorCode: "E_COMMAND_FAILED", message: "gpu-1: `sysctl -p` exited with status 255" });
  j.stepOutcome(r1, k("host.kubelet-unit", "gpu-1", 1), "blocked", { inputsHash: "", durationMs: 0, message: "an earlier step failed on gpu-1" });
  logs1.close();
  j.finishRun(r1, "failed", 900);
  const dry = j.startRun({ mode: "dry-run", options: {}, planHash: "p1" });
  j.finishRun(dry, "succeeded", 10);
  const r3 = j.startRun({ mode: "apply", options: {}, planHash: "p1" });
  j.stepOutcome(r3, k("host.sysctls", "cp-1", 0), "skipped", { inputsHash: "h1", durationMs: 3, message: "done in run 1" });
  j.stepStarted(r3, k("admin.journal-handoff", "cp-1", 5), "h9", null);
  return { dir, journal: j, current: r3 };
}

describe("journal export", () => {
  it("exports apply runs only, with each step's own log lines (continuations kept, other steps' lines left out)", () => {
    const { dir, journal } = installerState();
    const exp = exportJournal(join(dir, JOURNAL_FILE), new Date("2026-01-02T03:04:05Z"));
    journal.close();
    expect(exp.format).toBe(JOURNAL_EXPORT_FORMAT);
    expect(exp.runs.map((r) => [r.id, r.status, r.steps.length, r.bundleVersion])).toEqual([
      [1, "failed", 3, "1.0.0"],
      [3, "running", 2, null],
    ]);
    const cp = exp.runs[0]!.steps.find((s) => s.host === "cp-1")!;
    expect(cp.log!.split("\n").map((l) => l.replace(/^\S+Z /, "<t> "))).toEqual(["<t> $ write /etc/sysctl.d/90-omstack.conf (52 bytes, mode 644)", "<t> $ sysctl -p", "  net.ipv4.ip_forward = 1"]);
    expect(exp.runs[0]!.steps.find((s) => s.status === "blocked")!.log).toBeNull();
    expect(parseJournalExport(JSON.stringify(exp))).toEqual(exp);
  });

  it("keeps the tail of a long step log", () => {
    const lines = Array.from({ length: 400 }, (_, i) => `2026-01-01T00:00:00.000Z [s] line ${i} ${"x".repeat(40)}`).join("\n");
    const t = stepLogLines(lines, "s", 2048);
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(2048 + 40);
    expect(t.startsWith("… (earlier lines dropped)\n")).toBe(true);
    expect(t.endsWith(`line 399 ${"x".repeat(40)}`)).toBe(true);
  });

  it.each([
    ["not JSON", "{", /is not JSON/],
    ["another format", JSON.stringify({ format: "other/1", runs: [] }), /has format "other\/1"/],
    ["a run without steps", JSON.stringify({ format: JOURNAL_EXPORT_FORMAT, runs: [{ id: 1 }] }), /runs\[0\] needs "steps" as a list/],
    ["a bad step status", JSON.stringify({ format: JOURNAL_EXPORT_FORMAT, runs: [{ id: 1, status: "succeeded", startedAt: "t", hostname: "h", steps: [{ stepId: "a", host: "b", seq: 0, status: "done", attempts: 1, startedAt: "t" }] }] }), /runs\[0\].steps\[0\] has "status" "done"; expected one of/],
    ["a negative id", JSON.stringify({ format: JOURNAL_EXPORT_FORMAT, runs: [{ id: -1, steps: [] }] }), /needs "id" as a whole number/],
  ])("refuses %s with E_ADMIN_JOURNAL_FORMAT naming the field", (_what, text, msg) => {
    expect(() => parseJournalExport(text)).toThrow(expect.objectContaining({ code: "E_ADMIN_JOURNAL_FORMAT", message: expect.stringMatching(msg) }));
  });

  it("refuses an SQLite file that is not an install journal, and a missing file", () => {
    const adminDir = tmp();
    openStateDb(adminDir).close();
    expect(() => importJournalFile(tmp(), join(adminDir, "admin.db"))).toThrow(expect.objectContaining({ code: "E_ADMIN_JOURNAL_FORMAT", message: expect.stringMatching(/not an install journal/) }));
    expect(() => importJournalFile(tmp(), join(adminDir, "nope.json"))).toThrow(expect.objectContaining({ code: "E_ADMIN_JOURNAL_FORMAT", message: expect.stringMatching(/cannot be read/) }));
  });
});

describe("journal import", () => {
  it("maps statuses: interrupted → failed with a reason, blocked → skipped, failures summarised", () => {
    const base = { id: 7, startedAt: "t0", finishedAt: "t1", durationMs: 5, hostname: "inst", planHash: null, bundleVersion: null };
    const step = { stepId: "host.sysctls", host: "n1", seq: 0, attempts: 2, startedAt: "t0", finishedAt: "t1", durationMs: 1, log: null };
    const m = mapRun({ ...base, status: "failed", steps: [{ ...step, status: "failed", errorCode: "E_COMMAND_FAILED", message: "boom" }, { ...step, host: "n2", status: "blocked", errorCode: null, message: "an earlier step failed", attempts: 0 }] });
    expect(m.summary).toMatchObject({ status: "failed", error: "n1: host.sysctls: E_COMMAND_FAILED boom", startedBy: "installer@inst" });
    expect(m.steps.map((s) => [s.stepId, s.title, s.status, s.log])).toEqual([
      ["host.sysctls@n1", "host.sysctls on n1 (attempt 2)", "failed", "failed E_COMMAND_FAILED: boom"],
      ["host.sysctls@n2", "host.sysctls on n2", "skipped", "blocked: an earlier step failed"],
    ]);
    expect(mapRun({ ...base, status: "interrupted", steps: [] }).summary).toMatchObject({ status: "failed", error: expect.stringMatching(/interrupted/) });
  });

  it("imports once: a second import adds nothing; after the run finishes the same row is updated in place", () => {
    const { dir, journal, current } = installerState();
    const admin = tmp();
    const from = join(dir, JOURNAL_FILE);
    const first = importJournalFile(admin, from, new Date("2026-01-01T00:00:00Z"));
    expect([first.added, first.updated, first.unchanged]).toEqual([2, 0, 0]);
    const again = importJournalFile(admin, from);
    expect([again.added, again.updated, again.unchanged]).toEqual([0, 0, 2]);

    journal.stepOutcome(current, { stepId: "admin.journal-handoff", host: "cp-1", seq: 5 }, "verified", { inputsHash: "h9", durationMs: 100 });
    journal.finishRun(current, "succeeded", 2000);
    const third = importJournalFile(admin, from);
    expect([third.added, third.updated, third.unchanged]).toEqual([0, 1, 1]);
    journal.close();

    const db = openStateDb(admin);
    const runs = new RunStore(db);
    const listed = runs.list(50);
    expect(listed.map((r) => [r.kind, r.status, r.toVersion, r.startedBy])).toEqual([
      ["install", "succeeded", null, expect.stringMatching(/^installer@/)],
      ["install", "failed", "1.0.0", expect.stringMatching(/^installer@/)],
    ]);
    const done = runs.get(listed[0]!.id)!;
    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ["host.sysctls@cp-1", "skipped"],
      ["admin.journal-handoff@cp-1", "done"],
    ]);
    expect((db.prepare("SELECT COUNT(*) AS n FROM run_steps").get() as { n: number }).n).toBe(5);
    const audit = new AuditLog(db).list({ action: "journal.imported" }, 1, 10);
    expect(audit.total).toBe(3);
    db.close();

    const receipt = join(admin, IMPORT_RECEIPT_FILE);
    expect(statSync(receipt).mode & 0o777).toBe(0o600);
    const held = JSON.parse(readFileSync(receipt, "utf8")) as { runs: { key: string; status: string; steps: number }[] };
    expect(held.runs.map((r) => [r.status, r.steps])).toEqual([
      ["failed", 3],
      ["succeeded", 2],
    ]);
  });

  it("an imported run still in progress never blocks an upgrade and is not marked failed when the service restarts", () => {
    const { dir, journal } = installerState();
    journal.close();
    const admin = tmp();
    importJournalFile(admin, join(dir, JOURNAL_FILE));
    const db = openStateDb(admin);
    const runs = new RunStore(db);
    expect(runs.list(10).filter((r) => r.status === "running")).toHaveLength(1);
    expect(runs.running()).toBeUndefined();
    expect(runs.abandonRunning(new Date())).toBe(0);
    const own = runs.create("upgrade", null, "1.0.0", "1.1.0", "alice", new Date());
    expect(runs.running()?.id).toBe(own);
    expect(runs.abandonRunning(new Date())).toBe(1);
    db.close();
  });

  it("keys runs by installer machine, run id and start time: another installer's run 1 is a different run", () => {
    const admin = tmp();
    const db = openStateDb(admin);
    const run = { id: 1, status: "succeeded" as const, startedAt: "2026-01-01T00:00:00.000Z", finishedAt: null, durationMs: null, planHash: null, bundleVersion: null, steps: [] };
    const r = importJournal(db, { format: JOURNAL_EXPORT_FORMAT, exportedAt: "", runs: [{ ...run, hostname: "laptop-a" }, { ...run, hostname: "laptop-b" }] });
    expect(r.added).toBe(2);
    expect(new Set(r.runs.map((x) => x.key))).toEqual(new Set([runSourceKey({ ...run, hostname: "laptop-a" }), runSourceKey({ ...run, hostname: "laptop-b" })]));
    db.close();
  });
});

describe("localJournalSource (the install's side)", () => {
  it("lists runs exactly as the receipt will after the import, so the step's check turns done", async () => {
    const { dir, journal } = installerState();
    const source = localJournalSource(dir);
    const admin = tmp();
    const file = await source.writeExport();
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    const receipt = () => {
      try {
        return readFileSync(join(admin, IMPORT_RECEIPT_FILE), "utf8");
      } catch {
        return null;
      }
    };
    expect(missingRuns(await source.runs(), receipt())).toHaveLength(2);
    importJournalFile(admin, file.path);
    expect(missingRuns(await source.runs(), receipt())).toEqual([]);
    expect(missingRuns(file.runs, receipt())).toEqual([]);
    journal.finishRun(3, "interrupted", 5);
    expect(missingRuns(await source.runs(), receipt()).map((r) => r.status)).toEqual(["failed"]);
    journal.close();
    await file.dispose();
    writeFileSync(join(admin, IMPORT_RECEIPT_FILE), "not json");
    expect(missingRuns(await source.runs(), receipt())).toHaveLength(2);
    await expect(localJournalSource(tmp()).runs()).rejects.toMatchObject({ code: "E_INSTALL_STATE" });
  });
});

describe("logs across imports", () => {
  it("finds logs beside a copied state directory, and an import without logs keeps the logs imported before", async () => {
    const { dir, journal } = installerState();
    journal.close();
    const admin = tmp();
    const withLogs = await localJournalSource(dir).writeExport();
    importJournalFile(admin, withLogs.path);
    await withLogs.dispose();

    // the state directory moved: logs are found under its own logs/ folder
    const moved = tmp();
    rmSync(moved, { recursive: true });
    cpSync(dir, moved, { recursive: true });
    rmSync(join(dir, "logs"), { recursive: true });
    const fromMoved = exportJournal(join(moved, JOURNAL_FILE));
    expect(fromMoved.runs[0]!.steps.find((s) => s.host === "cp-1")!.log).toMatch(/\$ sysctl -p/);

    // install.db alone (no logs anywhere): nothing changes, the logs stay
    const alone = tmp();
    copyFileSync(join(dir, JOURNAL_FILE), join(alone, JOURNAL_FILE));
    expect(exportJournal(join(alone, JOURNAL_FILE)).runs[0]!.steps.every((s) => s.log === null)).toBe(true);
    const r = importJournalFile(admin, join(alone, JOURNAL_FILE));
    expect([r.added, r.updated, r.unchanged]).toEqual([0, 0, 2]);
    const db = openStateDb(admin);
    const runs = new RunStore(db);
    const failed = runs.get(runs.list(10).find((x) => x.status === "failed")!.id)!;
    expect(failed.steps.find((s) => s.stepId === "host.sysctls@cp-1")!.log).toMatch(/\$ sysctl -p\n  net.ipv4.ip_forward = 1$/);
    db.close();
  });
});
