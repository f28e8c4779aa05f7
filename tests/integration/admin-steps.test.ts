// admin.app, admin.service and admin.journal-handoff against a real SSH test host with the real packed app: push +
// unpack + symlink swap (a second run changes nothing), the journal imported with no duplicates, and the clear refusal
// of a node without systemd.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, createReadStream, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { labConnector, snapshotRoot } from "./step-hosts.js";
import type { SshConnector } from "../../installer/src/adapters/ssh/client.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import type { Plan, PlanNode } from "../../installer/src/plan/types.js";
import { execute } from "../../installer/src/executor/executor.js";
import { sessionHandle, sessionHosts } from "../../installer/src/executor/contexts.js";
import { soloReader } from "../../installer/src/executor/testing/solo.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";
import { Journal } from "../../installer/src/state/journal.js";
import type { Step } from "../../installer/src/steps/types.js";
import { adminApp, OMSTACK_WRAPPER } from "../../installer/src/steps/admin/app.js";
import { adminService } from "../../installer/src/steps/admin/service.js";
import { adminJournalHandoff } from "../../installer/src/steps/admin/journal-handoff.js";
import { ADMIN_UNIT_FILE, releaseId } from "../../installer/src/steps/admin/layout.js";
import { localJournalSource } from "../../installer/src/admin/journal/handoff-source.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const HOST = "cp-01";

let lab: TestLab;
let work: string;
let connector: SshConnector;
let specs: Record<string, HostSpec>;
let appTar: { path: string; sha256: string };
let appTar2: { path: string; sha256: string };
let nodeBin: { path: string; sha256: string };

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const inRoot = (path: string) => join(lab.host(HOST).rootDir, path);

function planFor(): Plan {
  const n = (host: string, roles: string[]): PlanNode => ({ host, roles, labels: {}, taints: [], disks: [], rdmaInterface: null, address: null, restrictOomScoreAdj: false, reasons: [] });
  return {
    formatVersion: 1,
    bundle: { version: null, cudaVersion: null, kubernetesVersion: null, containerdVersion: null },
    cluster: { name: "omstack", kubernetesVersion: null, controlPlaneEndpoint: null, podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12", nodeCidrMaskSize: 24, allowCgroupV1: false, kubeProxyMode: "iptables", dnsDomain: "cluster.local" },
    nodes: [n(HOST, ["control-plane"])],
    services: [],
    bypassedChecks: [],
    excluded: [],
    decisions: [],
  };
}

async function exec(steps: Step<Plan>[], stateDir: string, events: ExecutorEvent[] = []) {
  return execute<Plan>({ steps, plan: planFor(), hosts: sessionHosts((name) => connector.open(specs[name]!)), stateDir, onEvent: (e) => events.push(e) });
}

async function ssh(command: string): Promise<string> {
  return (await run("ssh", lab.sshArgs(HOST, [command]))).stdout;
}

async function sshWithInput(command: string, inputFile: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn("ssh", lab.sshArgs(HOST, [command]), { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${command}: exit ${code}: ${err}`))));
    createReadStream(inputFile).pipe(child.stdin);
  });
}

/** The imported runs in the node's admin database (a copy, so the host's WAL files are left alone). */
function adminRuns(): { source: string; status: string; steps: number }[] {
  const dir = mkdtempSync(join(work, "admin-db-"));
  for (const f of ["admin.db", "admin.db-wal", "admin.db-shm"]) if (existsSync(inRoot(`/var/lib/omstack-admin/${f}`))) copyFileSync(inRoot(`/var/lib/omstack-admin/${f}`), join(dir, f));
  const db = new Database(join(dir, "admin.db"));
  try {
    return db.prepare("SELECT source, status, (SELECT COUNT(*) FROM run_steps s WHERE s.run_id = r.id) AS steps FROM runs r WHERE source IS NOT NULL ORDER BY id").all() as { source: string; status: string; steps: number }[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "omstack-admin-it-"));
  const tarPath = join(work, "omstack-app.tar");
  await run("nice", ["-n", "10", process.execPath, join(ROOT, "scripts", "pack-app.mjs"), "--out", tarPath], { cwd: ROOT, timeout: 170_000 });
  appTar = { path: tarPath, sha256: sha256(tarPath) };
  // A second release: the same app with one more file appended (another sha256, so another release folder).
  const tar2 = join(work, "omstack-app-2.tar");
  copyFileSync(tarPath, tar2);
  await run("tar", ["-rf", tar2, "-C", ROOT, "--transform", "s,^,omstack/extra/,", "package.json"]);
  appTar2 = { path: tar2, sha256: sha256(tar2) };
  nodeBin = { path: process.execPath, sha256: sha256(process.execPath) };
  lab = await startTestHosts([{ name: HOST }], { runDir: work });
  ({ connector, specs } = await labConnector(lab));
}, 180_000);

afterAll(async () => {
  await lab?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("admin.app over SSH", () => {
  it("pushes node and the app, unpacks into the release folder, points current at it; the installed omstack runs on the host", async () => {
    const events: ExecutorEvent[] = [];
    const r = await exec([adminApp({ app: appTar, node: nodeBin })], join(work, "state"), events);
    expect(r.status, JSON.stringify(events.filter((e) => e.type === "step-failed"))).toBe("succeeded");
    const rel = `app-${releaseId(appTar.sha256, nodeBin.sha256)}`;
    expect(lstatSync(inRoot("/opt/omstack/current")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(inRoot("/opt/omstack/current"))).toBe(rel);
    expect(sha256(inRoot(`/opt/omstack/${rel}/node`))).toBe(nodeBin.sha256);
    expect(lstatSync(inRoot(`/opt/omstack/${rel}/node`)).mode & 0o777).toBe(0o755);
    expect(existsSync(inRoot(`/opt/omstack/${rel}/omstack/node_modules/better-sqlite3/build/Release/better_sqlite3.node`))).toBe(true);
    expect(readdirSync(inRoot("/opt/omstack")).sort()).toEqual([rel, "current"]);
    expect((await ssh(`${OMSTACK_WRAPPER} --version`)).trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    expect(await ssh(`${OMSTACK_WRAPPER} admin --help`)).toMatch(/import-journal/);
  });

  it("a second run skips it and changes nothing on the host", async () => {
    const before = snapshotRoot(lab.host(HOST).rootDir);
    const events: ExecutorEvent[] = [];
    const r = await exec([adminApp({ app: appTar, node: nodeBin })], join(work, "state"), events);
    expect(r.status).toBe("succeeded");
    expect(events.filter((e) => e.type === "step-skipped")).toHaveLength(1);
    expect(events.filter((e) => e.type === "step-started")).toHaveLength(0);
    const after = snapshotRoot(lab.host(HOST).rootDir);
    // only the host lock's own bookkeeping may differ
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k) && !k.startsWith("/var/lib/omstack/lock"));
    expect(changed).toEqual([]);
  });

  it("a new release swaps current, keeps the one before as a way back, and drops older ones", async () => {
    const first = `app-${releaseId(appTar.sha256, nodeBin.sha256)}`;
    const second = `app-${releaseId(appTar2.sha256, nodeBin.sha256)}`;
    expect((await exec([adminApp({ app: appTar2, node: nodeBin })], join(work, "state"))).status).toBe("succeeded");
    expect(readlinkSync(inRoot("/opt/omstack/current"))).toBe(second);
    expect(readdirSync(inRoot("/opt/omstack")).sort()).toEqual([first, second, "current"].sort());
    expect((await exec([adminApp({ app: appTar, node: nodeBin })], join(work, "state"))).status).toBe("succeeded");
    expect(readlinkSync(inRoot("/opt/omstack/current"))).toBe(first);
    expect(readdirSync(inRoot("/opt/omstack")).sort()).toEqual([first, second, "current"].sort());
    const session = await connector.open(specs[HOST]!);
    try {
      const reader = soloReader(sessionHandle(HOST, session).reader({ log: () => {}, note: () => {} }));
      expect(await adminApp({ app: appTar, node: nodeBin }).check(reader)).toBe("done");
      expect(await adminApp({ app: appTar2, node: nodeBin }).check(reader)).toEqual({ pending: expect.stringMatching(/does not point at release/) });
    } finally {
      session.close();
    }
  });
});

describe("admin.journal-handoff over SSH", () => {
  it("imports this install's journal into the node's admin database; later runs add only their own run, never a duplicate", async () => {
    const state = join(work, "state");
    const steps = () => [adminApp({ app: appTar, node: nodeBin }), adminJournalHandoff({ source: localJournalSource(state) })];
    const events: ExecutorEvent[] = [];
    const r = await exec(steps(), state, events);
    expect(r.status, JSON.stringify(events.filter((e) => e.type === "step-failed"))).toBe("succeeded");
    const local = () => {
      const j = Journal.openIfExists(state)!;
      try {
        return j.runs().filter((x) => x.mode === "apply");
      } finally {
        j.close();
      }
    };
    const afterFirst = adminRuns();
    expect(afterFirst).toHaveLength(local().length);
    expect(new Set(afterFirst.map((x) => x.source)).size).toBe(afterFirst.length);
    expect(afterFirst.at(-1)).toMatchObject({ status: "running", steps: 2 });

    const r2 = await exec(steps(), state);
    expect(r2.status).toBe("succeeded");
    const afterSecond = adminRuns();
    expect(afterSecond).toHaveLength(afterFirst.length + 1);
    expect(new Set(afterSecond.map((x) => x.source)).size).toBe(afterSecond.length);
    // the run that was in progress at the first hand-over now shows how it ended
    expect(afterSecond[afterFirst.length - 1]).toMatchObject({ source: afterFirst.at(-1)!.source, status: "succeeded" });
    expect(readdirSync(inRoot("/var/lib/omstack/handoff"))).toEqual([]);
    expect(lstatSync(inRoot("/var/lib/omstack-admin/journal-imports.json")).mode & 0o777).toBe(0o600);

    // by hand on the node, the same journal file twice: nothing added
    await sshWithInput("cat > /root/install.db", join(state, "install.db"));
    for (let i = 0; i < 2; i++) {
      const out = JSON.parse(await ssh(`${OMSTACK_WRAPPER} -o json admin import-journal --state-dir /var/lib/omstack-admin --from /root/install.db`)) as { added: number; updated: number };
      expect([out.added, out.updated]).toEqual([0, i === 0 ? 1 : 0]);
      expect(adminRuns()).toHaveLength(afterSecond.length);
    }
    expect(adminRuns().at(-1)).toMatchObject({ status: "succeeded" });
  });
});

describe("admin.service over SSH (a host without systemd)", () => {
  it("refuses clearly: E_ADMIN_SERVICE_NO_SYSTEMD with the remedy, and no unit, user or password file on the host", async () => {
    const before = snapshotRoot(lab.host(HOST).rootDir);
    const asked: string[] = [];
    const events: ExecutorEvent[] = [];
    const r = await exec([adminService({ user: { name: "admin", password: () => (asked.push("asked"), "a long enough password") } })], join(work, "state-service"), events);
    expect(r.status).toBe("failed");
    const failed = events.find((e): e is Extract<ExecutorEvent, { type: "step-failed" }> => e.type === "step-failed")!;
    expect(failed).toMatchObject({ stepId: "admin.service", host: HOST, error: { code: "E_ADMIN_SERVICE_NO_SYSTEMD", message: expect.stringContaining("systemd is not PID 1 on this node"), remedy: expect.stringContaining("booted with systemd") } });
    expect(events.find((e) => e.type === "step-started")).toMatchObject({ pending: expect.stringMatching(/systemd is not PID 1/) });
    expect(asked).toEqual([]);
    expect(existsSync(inRoot(ADMIN_UNIT_FILE))).toBe(false);
    const after = snapshotRoot(lab.host(HOST).rootDir);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k) && !k.startsWith("/var/lib/omstack/lock"));
    expect(changed).toEqual([]);
  });
});
