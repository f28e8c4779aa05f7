// devices.gpu-check, devices.rdma-check and storage.lvm-volume-groups through the real executor against real SSH test
// hosts with hardware profiles (tests/hosts): the plan nodes' labels come from the profiles' own facts via the planner's
// factLabels, as `omstack plan` would write them.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AggregateOmstackError } from "../../installer/src/errors.js";
import { sessionHosts } from "../../installer/src/executor/contexts.js";
import { execute, type ExecuteResult } from "../../installer/src/executor/executor.js";
import type { SshConnector } from "../../installer/src/adapters/ssh/client.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import { factLabels } from "../../installer/src/plan/labels.js";
import { testNode, testPlan } from "../../installer/src/plan/testing.js";
import type { Plan, PlanNode } from "../../installer/src/plan/types.js";
import { readCaptureDir } from "../../installer/src/probe/captureDir.js";
import type { HostFacts } from "../../installer/src/probe/facts.js";
import { parseCaptures } from "../../installer/src/probe/parse/index.js";
import { devicesGpuCheck } from "../../installer/src/steps/devices/gpu-check.js";
import { devicesRdmaCheck } from "../../installer/src/steps/devices/rdma-check.js";
import { storageLvmVolumeGroups } from "../../installer/src/steps/storage/lvm-volume-groups.js";
import type { Step } from "../../installer/src/steps/types.js";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { labConnector } from "./step-hosts.js";

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "../fixtures");

let lab: TestLab;
let work: string;
let connector: SshConnector;
let specs: Record<string, HostSpec>;
let gpuProfile: string;

async function factsOf(name: string, profileDir: string): Promise<HostFacts> {
  return parseCaptures(name, await readCaptureDir(profileDir));
}

function exec(step: Step<Plan>, nodes: PlanNode[], stateDir: string): Promise<ExecuteResult> {
  return execute<Plan>({ steps: [step], plan: testPlan(nodes), hosts: sessionHosts((name) => connector.open(specs[name]!)), stateDir: join(work, stateDir), hostLockDir: false });
}

/** Each failed host's error, by host. */
function failures(r: ExecuteResult): Map<string, { code: string; message: string }> {
  const errs = r.error instanceof AggregateOmstackError ? r.error.errors : [];
  return new Map(errs.map((e) => [e.host ?? "", { code: e.code, message: e.message }]));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "omstack-devices-it-"));
  // h100-ib plus a real /proc/driver/nvidia/version capture (another machine's: the profile has none) — see SOURCE.md there.
  gpuProfile = join(work, "h100-ib-with-driver");
  mkdirSync(gpuProfile);
  for (const f of readdirSync(join(FIXTURES, "hosts/h100-ib"))) copyFileSync(join(FIXTURES, "hosts/h100-ib", f), join(gpuProfile, f));
  copyFileSync(join(FIXTURES, "captures/nvidia-version-580-truenas/nvidia-version.txt"), join(gpuProfile, "nvidia-version.txt"));
  lab = await startTestHosts(
    [
      { name: "gpu-ok", profile: gpuProfile },
      { name: "gpu-hang", profile: gpuProfile, fault: "hang" },
      { name: "gpu-nodev", profile: gpuProfile },
      { name: "roce-01", profile: "a100-roce" },
      { name: "cpu-01", hideCommands: ["pvs", "vgs", "pvcreate", "vgcreate", "vgextend"] },
    ],
    { runDir: work },
  );
  ({ connector, specs } = await labConnector(lab));
  // What the NVIDIA driver creates at load: the control device and one node per GPU (the h100-ib profile has one GPU).
  for (const h of ["gpu-ok", "gpu-hang"]) await run("ssh", lab.sshArgs(h, ["mknod -m 666 /dev/nvidiactl c 195 255 && mknod -m 666 /dev/nvidia0 c 195 0"]));
});

afterAll(async () => {
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("devices.gpu-check on SSH test hosts", () => {
  it("h100-ib passes; a hanging nvidia-smi and missing device nodes fail with their codes", async () => {
    const labels = factLabels(await factsOf("gpu-ok", gpuProfile));
    expect(labels).toMatchObject({ "omstack.io/gpu.vendor": "nvidia", "omstack.io/gpu.count": "1" });
    const nodes = ["gpu-ok", "gpu-hang", "gpu-nodev"].map((h) => testNode(h, { roles: ["worker", "gpu"], labels }));
    const t0 = Date.now();
    const r = await exec(devicesGpuCheck({ smiTimeoutSec: 3 }), [...nodes, testNode("cpu-01")], "gpu");
    expect(r.outcomes.map((o) => [o.host, o.status]).sort()).toEqual([
      ["gpu-hang", "failed"],
      ["gpu-nodev", "failed"],
      ["gpu-ok", "verified"],
    ]);
    const f = failures(r);
    expect(f.get("gpu-hang")).toEqual({ code: "E_GPU_SMI_FAILED", message: "gpu-hang: nvidia-smi did not answer within 3 s (a hung GPU or driver)" });
    expect(f.get("gpu-nodev")).toEqual({ code: "E_GPU_DEVICE_NODES", message: "gpu-nodev: the NVIDIA driver 580.173.02 is loaded but /dev/nvidiactl, /dev/nvidia0 are missing" });
    // check + apply each wait for the hung tool once: bounded by the time limit, not by the hang
    expect(Date.now() - t0).toBeLessThan(60_000);
    // a second run: the healthy node is skipped (journal + check), the hung one is still refused
    const again = await execute<Plan>({ steps: [devicesGpuCheck({ smiTimeoutSec: 3 })], plan: testPlan(nodes.slice(0, 1)), hosts: sessionHosts((name) => connector.open(specs[name]!)), stateDir: join(work, "gpu"), hostLockDir: false, retryFailed: true });
    expect(again.outcomes).toEqual([{ stepId: "devices.gpu-check", host: "gpu-ok", status: "skipped" }]);
  });
});

describe("devices.rdma-check on SSH test hosts", () => {
  it("a100-roce's planned RoCE interface passes; a wrong link layer and a host without RDMA fail", async () => {
    const facts = await factsOf("roce-01", join(FIXTURES, "hosts/a100-roce"));
    const labels = factLabels(facts);
    const iface = facts.rdma.find((p) => p.state === "ACTIVE" && p.netdev)?.netdev ?? null;
    expect([labels["omstack.io/rdma.link-layer"], iface]).toEqual(["Ethernet", "enp4s0f0np0"]);
    const ok = await exec(devicesRdmaCheck(), [testNode("roce-01", { labels, rdmaInterface: iface })], "rdma-ok");
    expect(ok.outcomes.map((o) => o.status)).toEqual(["verified"]);

    const bad = await exec(
      devicesRdmaCheck(),
      [testNode("roce-01", { labels: { ...labels, "omstack.io/rdma.link-layer": "InfiniBand" }, rdmaInterface: iface }), testNode("cpu-01", { rdmaInterface: "ib0", labels: { "omstack.io/rdma.link-layer": "InfiniBand" } })],
      "rdma-bad",
    );
    const f = failures(bad);
    expect(f.get("roce-01")).toEqual({ code: "E_RDMA_LINK_LAYER", message: "roce-01: mlx5_0 port 1 (enp4s0f0np0) must have link layer InfiniBand as planned; it has Ethernet" });
    expect(f.get("cpu-01")?.code).toBe("E_RDMA_PORT_MISSING");
    expect(f.get("cpu-01")?.message).toContain("shows no RDMA device");
  });
});

describe("storage.lvm-volume-groups on an SSH test host without lvm2", () => {
  it("fails with E_LVM_UNAVAILABLE naming the missing tools, and changes nothing", async () => {
    const disk = { name: "vdz", sizeBytes: 2 ** 34, class: "ssd" as const, use: "omstack-local", wipe: false, reason: "test" };
    const r = await exec(storageLvmVolumeGroups(), [testNode("cpu-01", { disks: [disk] })], "lvm");
    const f = failures(r).get("cpu-01");
    expect(f?.code).toBe("E_LVM_UNAVAILABLE");
    expect(f?.message).toContain("cpu-01: the plan puts vdz into LVM volume groups, but the tools pvs, vgs, pvcreate, vgcreate, vgextend are not installed");
    expect(r.error?.format()).toContain("install lvm2");
  });
});
