// Host-preparation steps and the executor against real SSH test hosts: files land in each host's own root for inspection.
import { execFile } from "node:child_process";
import { soloReader } from "../../installer/src/executor/testing/solo.js";
import { testPlan } from "../../installer/src/plan/testing.js";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import type { SshConnector } from "../../installer/src/adapters/ssh/client.js";
import { labConnector, snapshotRoot } from "./step-hosts.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import type { HostSession } from "../../installer/src/probe/ports.js";
import type { Plan } from "../../installer/src/plan/types.js";
import { execute, type ExecuteOptions } from "../../installer/src/executor/executor.js";
import { sessionHandle, sessionHosts } from "../../installer/src/executor/contexts.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";
import { Journal, JOURNAL_FILE } from "../../installer/src/state/journal.js";
import { hostSwapOff, SWAP_COMMENT } from "../../installer/src/steps/host/swap-off.js";
import { hostSysctls, SYSCTL_FILE } from "../../installer/src/steps/host/sysctls.js";
import { hostKernelModules, MODULES_FILE } from "../../installer/src/steps/host/kernel-modules.js";
import { hostPushFiles } from "../../installer/src/steps/host/push-files.js";
import type { Step } from "../../installer/src/steps/types.js";

const run = promisify(execFile);
const NAMES = ["prep-01", "prep-02"];
const FSTAB = "UUID=0a1b2c3d / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n# /old-swap none swap sw 0 0\n";
const SYSCTLS = { "net.ipv4.ip_forward": "1", "net.core.somaxconn": "4096", "vm.max_map_count": "262144" };

let lab: TestLab;
let work: string;
let connector: SshConnector;
let specs: Record<string, HostSpec>;
let payload: string;
let payloadSum: string;
const sessions: HostSession[] = [];


function plan(hosts: string[]): Plan {
  return testPlan(hosts);
}

function prepSteps(): Step<Plan>[] {
  return [
    hostSwapOff(),
    hostSysctls({ values: SYSCTLS }),
    hostKernelModules(),
    hostPushFiles({ files: [{ source: payload, dest: "/opt/omstack/bundle/part-0001.bin", sha256: payloadSum, mode: 0o640 }] }),
  ];
}

async function ssh(host: string, command: string): Promise<string> {
  return (await run("ssh", lab.sshArgs(host, [command]))).stdout;
}

function exec(o: Partial<ExecuteOptions<Plan>> & { events?: ExecutorEvent[] } = {}) {
  const events = o.events ?? [];
  return execute<Plan>({
    steps: prepSteps(),
    plan: plan(NAMES),
    hosts: sessionHosts((name) => connector.open(specs[name]!)),
    stateDir: join(work, "state"),
    onEvent: (e) => events.push(e),
    ...o,
  });
}


const inRoot = (host: string, path: string) => join(lab.host(host).rootDir, path);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "omstack-install-it-"));
  lab = await startTestHosts(NAMES.map((name) => ({ name })), { runDir: work });
  ({ connector, specs } = await labConnector(lab));
  payload = join(work, "part-0001.bin");
  const data = randomBytes(300 * 1024);
  writeFileSync(payload, data);
  payloadSum = createHash("sha256").update(data).digest("hex");
  for (const h of NAMES) await ssh(h, `printf '%s' '${FSTAB}' > /etc/fstab`);
});

afterAll(async () => {
  for (const s of sessions) s.close();
  await lab?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("host preparation over SSH", () => {
  it("dry-run describes every change and writes nothing: no host file changes, no journal", async () => {
    const before = NAMES.map((h) => snapshotRoot(lab.host(h).rootDir));
    const events: ExecutorEvent[] = [];
    const r = await exec({ dryRun: true, events });
    expect(r.status, JSON.stringify(events.filter((e) => e.type === "step-failed"))).toBe("succeeded");
    const planned = events.filter((e): e is Extract<ExecutorEvent, { type: "step-planned" }> => e.type === "step-planned");
    expect(planned).toHaveLength(8);
    expect(planned.every((e) => e.willApply)).toBe(true);
    const sysctl = planned.find((e) => e.stepId === "host.sysctls" && e.host === "prep-01")!;
    expect(sysctl.lines).toContain("  net.core.somaxconn = 4096");
    expect(planned.find((e) => e.stepId === "host.swap-off")!.reason).toMatch(/1 swap line\(s\) active in \/etc\/fstab/);
    expect(NAMES.map((h) => snapshotRoot(lab.host(h).rootDir))).toEqual(before);
    expect(existsSync(join(work, "state", JOURNAL_FILE))).toBe(false);
  });

  it("applies every step on both hosts: files in each host's root, live values where the kernel allows, notes where not", async () => {
    const events: ExecutorEvent[] = [];
    const r = await exec({ events });
    expect(r.status, JSON.stringify(events.filter((e) => e.type === "step-failed"))).toBe("succeeded");
    for (const h of NAMES) {
      const fstab = readFileSync(inRoot(h, "/etc/fstab"), "utf8");
      expect(fstab).toBe(FSTAB.replace("/swap.img", SWAP_COMMENT + "/swap.img"));
      expect(readFileSync(inRoot(h, SYSCTL_FILE), "utf8")).toBe(
        "# Managed by omstack (host.sysctls); edits here are overwritten on the next install.\nnet.core.somaxconn = 4096\nnet.ipv4.ip_forward = 1\nvm.max_map_count = 262144\n",
      );
      expect(readFileSync(inRoot(h, MODULES_FILE), "utf8")).toMatch(/\noverlay\nbr_netfilter\n$/);
      const pushed = inRoot(h, "/opt/omstack/bundle/part-0001.bin");
      expect(createHash("sha256").update(readFileSync(pushed)).digest("hex")).toBe(payloadSum);
      expect(lstatSync(pushed).mode & 0o777).toBe(0o640);
      // net.* is the host's own (its netns) and writable: set live. vm.* is read-only in a test host: reported, kept for boot.
      expect((await ssh(h, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/core/somaxconn")).split("\n").slice(0, 2)).toEqual(["1", "4096"]);
      const notes = events.filter((e): e is Extract<ExecutorEvent, { type: "step-note" }> => e.type === "step-note" && e.host === h).map((e) => e.message);
      expect(notes).toContainEqual(expect.stringMatching(/^vm\.max_map_count cannot be set live: \/proc\/sys\/vm\/max_map_count is read-only here/));
      // The host lock is gone after the run; its parent stays.
      expect(existsSync(inRoot(h, "/var/lib/omstack/lock"))).toBe(false);
    }
    const j = Journal.open(join(work, "state"));
    try {
      const rows = j.steps(r.runId!);
      expect(rows.map((x) => `${x.stepId} ${x.host} ${x.status}`).sort()).toEqual(
        prepSteps().flatMap((s) => NAMES.map((h) => `${s.id} ${h} verified`)).sort(),
      );
      expect(rows.every((x) => x.logPath !== null && existsSync(x.logPath))).toBe(true);
      const log = readFileSync(rows[0]!.logPath!, "utf8");
      expect(log).toMatch(/\[host\.swap-off\] \$ swapoff -a/);
      // Pushed through the SSH session's streamed stdin, not through scripts.
      const push = rows.find((x) => x.stepId === "host.push-files")!;
      expect(readFileSync(push.logPath!, "utf8")).toMatch(/\$ push \S+part-0001\.bin -> \/opt\/omstack\/bundle\/part-0001\.bin \(307200 bytes, streamed\)/);
    } finally {
      j.close();
    }
  });

  it("a second run skips everything and leaves every host byte for byte the same", async () => {
    const before = NAMES.map((h) => snapshotRoot(lab.host(h).rootDir));
    const events: ExecutorEvent[] = [];
    const r = await exec({ events });
    expect(r.status).toBe("succeeded");
    expect(events.filter((e) => e.type === "step-skipped")).toHaveLength(8);
    expect(events.filter((e) => e.type === "step-started")).toHaveLength(0);
    expect(NAMES.map((h) => snapshotRoot(lab.host(h).rootDir))).toEqual(before);
  });

  it("check says done after apply; verify fails once someone reverts a file; the next run repairs only that", async () => {
    const session = await connector.open(specs["prep-02"]!);
    sessions.push(session);
    const handle = sessionHandle("prep-02", session);
    const notes: string[] = [];
    const reader = soloReader(handle.reader({ log: () => {}, note: (m) => notes.push(m) }));
    const steps = prepSteps();
    for (const s of steps) expect(await s.check(reader), s.id).toBe("done");

    await ssh("prep-02", `sed -i 's/^${SWAP_COMMENT.trim()} //' /etc/fstab; echo 'vm.max_map_count = 1' > ${SYSCTL_FILE}; rm ${MODULES_FILE}; echo tampered >> /opt/omstack/bundle/part-0001.bin`);
    for (const s of steps) {
      await expect(s.verify(reader), s.id).rejects.toMatchObject({ code: "E_STEP_VERIFY", host: "prep-02" });
      expect(await s.check(reader), s.id).toEqual({ pending: expect.any(String) });
    }
    await expect(steps[0]!.verify(reader)).rejects.toThrow(/\/etc\/fstab must mount no swap; it has: \/swap\.img none swap sw 0 0/);

    const events: ExecutorEvent[] = [];
    const r = await exec({ events });
    expect(r.status).toBe("succeeded");
    expect(events.filter((e) => e.type === "step-started").map((e) => (e as { host: string }).host)).toEqual(["prep-02", "prep-02", "prep-02", "prep-02"]);
    expect(events.filter((e) => e.type === "step-skipped").map((e) => (e as { host: string }).host)).toEqual(["prep-01", "prep-01", "prep-01", "prep-01"]);
    for (const s of steps) expect(await s.check(reader), s.id).toBe("done");
    expect(createHash("sha256").update(readFileSync(inRoot("prep-02", "/opt/omstack/bundle/part-0001.bin"))).digest("hex")).toBe(payloadSum);
  });

  it("a failing command on a real host reports command, exit status and output tail; the other host's work stands", async () => {
    const boom: Step<Plan> = {
      id: "test.boom",
      title: "a command that fails on prep-01",
      targets: (p) => p.nodes.map((n) => n.host),
      check: async () => ({ pending: "always" }),
      apply: async (ctx) => {
        await ctx.writeFile("/etc/omstack-boom-ran", "yes\n");
        if (ctx.host === "prep-01") await ctx.run("echo preparing; echo 'fatal: no space left on device' >&2; exit 7");
      },
      verify: async () => {},
      describe: () => ["run a failing command"],
    };
    const events: ExecutorEvent[] = [];
    const r = await execute<Plan>({ steps: [boom], plan: plan(NAMES), hosts: sessionHosts((n) => connector.open(specs[n]!)), stateDir: join(work, "state-boom"), onEvent: (e) => events.push(e) });
    expect(r.status).toBe("failed");
    const failed = events.find((e): e is Extract<ExecutorEvent, { type: "step-failed" }> => e.type === "step-failed")!;
    expect(failed).toMatchObject({ host: "prep-01", error: { code: "E_COMMAND_FAILED", exitStatus: 7, command: expect.stringContaining("exit 7") } });
    expect(failed.error.outputTail).toMatch(/preparing\nfatal: no space left on device/);
    expect(readFileSync(inRoot("prep-02", "/etc/omstack-boom-ran"), "utf8")).toBe("yes\n");
    expect(readFileSync(failed.logPath, "utf8")).toMatch(/fatal: no space left on device/);
  });

  it("refuses a host whose lock another installer holds, and works the other host", async () => {
    await ssh("prep-01", "mkdir -p /var/lib/omstack/lock && printf 'installer=other-machine/abc\\npid=1\\npid_start=\\nrun=9\\nstarted=2026-01-01T00:00:00Z\\n' > /var/lib/omstack/lock/owner");
    const events: ExecutorEvent[] = [];
    const r = await exec({ events, fromStep: "host.swap-off", stateDir: join(work, "state-locked") });
    expect(r.status).toBe("failed");
    const failed = events.filter((e): e is Extract<ExecutorEvent, { type: "step-failed" }> => e.type === "step-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ host: "prep-01", error: { code: "E_INSTALL_HOST_LOCKED", message: expect.stringContaining("installer other-machine/abc, PID 1, run 9"), remedy: expect.stringContaining("rm -r /var/lib/omstack/lock") } });
    expect(events.filter((e) => e.type === "step-verified" && e.host === "prep-02")).toHaveLength(4);
    // The foreign lock is left alone.
    expect(readFileSync(inRoot("prep-01", "/var/lib/omstack/lock/owner"), "utf8")).toContain("installer=other-machine/abc");
    await ssh("prep-01", "rm -r /var/lib/omstack/lock");
  });
});
