// `omstack preflight` and `omstack plan` over real SSH: three test hosts (network namespaces with their own sshd) showing
// the real h100-ib, a100-roce and cpu-hdd hardware profiles; the built CLI probes them, checks them and plans.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import type { Outcome } from "../../installer/src/preflight/preflight.js";
import type { Plan } from "../../installer/src/plan/types.js";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const cli = join(repo, "bin/omstack.js");
const PROFILES = ["h100-ib", "a100-roce", "cpu-hdd"];
// Checks decided by the hardware profile alone (not by the test host's own kernel, ports or NICs).
const HARDWARE_CHECKS = ["cpu.cores", "memory.total", "swap.off", "gpu.driver-present", "gpu.driver-cuda", "gpu.mig-host", "gpu.mig-cluster", "rdma.link-layer", "rdma.mixed-fabrics", "os.supported"];

async function omstack(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("omstack preflight and plan over SSH", () => {
  let lab: TestLab;
  let work: string;
  let inventory: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "omstack-pp-ssh-"));
    lab = await startTestHosts(PROFILES.map((p) => ({ name: p, profile: p })), { runDir: work });
    inventory = join(work, "omstack.yaml");
    await lab.writeInventory(inventory);
  });

  afterAll(async () => {
    await lab?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("preflight probes the hosts and reports every check; plan refuses, then plans once the failures are bypassed", async () => {
    const ssh = ["-i", inventory, "--known-hosts", lab.knownHostsFile];
    const pre = await omstack(["preflight", ...ssh, "-o", "json"]);
    expect(pre.code, pre.stderr).toBe(1);
    const outcomes = (JSON.parse(pre.stdout) as { outcomes: Outcome[] }).outcomes;
    const get = (id: string, h: string) => outcomes.find((o) => o.checkId === id && o.host === h);
    for (const h of PROFILES) {
      expect(get("host.reachable", h), `${h} unreachable`).toBeUndefined();
      expect(outcomes.filter((o) => o.host === h).length).toBeGreaterThan(10);
    }
    expect(get("gpu.driver-cuda", "a100-roce")).toMatchObject({ status: "fail", found: expect.stringContaining("510.47.03") });
    expect(get("gpu.driver-cuda", "h100-ib")?.status).toBe("pass");
    expect(get("rdma.link-layer", "h100-ib")?.status).toBe("pass"); // one IB and one RoCE node: an even split, two fabrics
    expect(get("rdma.mixed-fabrics", "h100-ib")?.status).toBe("warn");
    expect(get("gpu.driver-present", "cpu-hdd")).toBeUndefined(); // no GPU, so the GPU checks do not apply
    expect(outcomes.filter((o) => o.found.startsWith("the check could not be evaluated"))).toEqual([]);

    // The hardware checks judge the same as from the captures the probe saves of these hosts.
    const captures = join(work, "captures");
    await omstack(["probe", ...ssh, "--capture-dir", captures, "-o", "json"]);
    const fromCaptures = (JSON.parse((await omstack(["preflight", "--from-capture", captures, "-o", "json"])).stdout) as { outcomes: Outcome[] }).outcomes;
    const pick = (os: Outcome[]) => os.filter((o) => HARDWARE_CHECKS.includes(o.checkId)).map((o) => `${o.host} ${o.checkId} ${o.status} ${o.found}`).sort();
    expect(pick(outcomes)).toEqual(pick(fromCaptures));

    const failing = [...new Set(outcomes.filter((o) => o.status === "fail").map((o) => o.checkId))].sort();
    const refused = await omstack(["plan", ...ssh, "-o", "json"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("[E_PREFLIGHT_FAILED]");

    const planned = await omstack(["plan", ...ssh, "-o", "json", ...failing.flatMap((id) => ["--ignore", id])]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as Plan;
    const node = (h: string) => plan.nodes.find((n) => n.host === h)!;
    expect(plan.nodes.map((n) => n.host)).toEqual([...PROFILES].sort());
    expect(plan.bypassedChecks).toEqual(failing);
    expect(node("cpu-hdd").roles).toContain("control-plane");
    expect(node("h100-ib").roles).toEqual(["worker", "gpu"]);
    expect(node("a100-roce").roles).toEqual(["worker", "gpu"]);
    expect(node("h100-ib").labels).toMatchObject({ "omstack.io/gpu.model": "NVIDIA-H100-80GB-HBM3", "omstack.io/rdma.link-layer": "InfiniBand" });
    expect(node("a100-roce").labels).toMatchObject({ "omstack.io/gpu.mig": "enabled", "omstack.io/rdma.link-layer": "Ethernet" });
    expect(node("h100-ib").taints).toEqual(["nvidia.com/gpu=present:NoSchedule"]);
    expect(plan.nodes.flatMap((n) => n.disks).filter((d) => d.wipe)).toEqual([]);
    expect(plan.excluded).toEqual([]);

    const human = await omstack(["plan", ...ssh, ...failing.flatMap((id) => ["--ignore", id])]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Facts from probe of ${inventory}`);
    expect(human.stdout).toMatch(/Bypassed preflight checks \(recorded\): /);
  });
});
