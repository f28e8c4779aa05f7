// devices.gpu-check and devices.rdma-check on in-memory hosts fed with real captures (tests/fixtures/captures), the
// sysfs listing script run by a real sh over a sysfs-shaped tree, and the verdicts. Real SSH hosts:
// tests/integration/device-checks-ssh.test.ts.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CommandError } from "../../errors.js";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import type { StepIo } from "../../executor/ports.js";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import { testNode, testPlan } from "../../plan/testing.js";
import { parseIbdev2netdev } from "../../probe/parse/ibdev2netdev.js";
import { parseIbstat } from "../../probe/parse/ibstat.js";
import { parseRdmaLink } from "../../probe/parse/rdmaLink.js";
import { capture } from "../../probe/parse/testFixtures.js";
import { devicesGpuCheck, expectedNodes, gpuProblems, NVIDIA_VERSION_FILE } from "./gpu-check.js";
import { devicesRdmaCheck, plannedRdma } from "./rdma-check.js";
import { SYSFS_SCRIPT, parseSysfsPorts, portsFromTools, rdmaProblems } from "./rdma-ports.js";

const io = (notes: string[] = []): StepIo => ({ log: () => {}, note: (m) => notes.push(m) });
const A100_XML = capture("nvsmi-xml-a100-80gb-mig-535", "nvidia-smi-q-x.xml");
const H100_TEXT = capture("nvsmi-q-text-h100-590", "nvidia-smi-q.txt");
const NV_VERSION = capture("nvidia-version-580-truenas", "nvidia-version.txt");

const gpuNode = (host: string, count: string) => testNode(host, { roles: ["worker", "gpu"], labels: { "omstack.io/gpu.vendor": "nvidia", "omstack.io/gpu.count": count } });

async function gpuHost(opts: { driver?: boolean; smi?: (cmd: string) => { stdout?: string; stderr?: string; exitCode?: number }; missing?: string[]; count?: string }) {
  const hosts = new MemoryHosts(["g1"]);
  hosts.commands.add("nvidia-smi");
  hosts.commands.add("timeout");
  if (opts.driver !== false) hosts.put("g1", NVIDIA_VERSION_FILE, NV_VERSION);
  hosts.commandHandler = (_h, cmd) => {
    if (cmd.includes("nvidia-smi")) return opts.smi?.(cmd) ?? { stdout: A100_XML };
    if (cmd.startsWith("for f in /dev/nvidiactl")) return { stdout: (opts.missing ?? []).map((m) => `${m}\n`).join("") };
    return { exitCode: 127 };
  };
  const step = devicesGpuCheck({ smiTimeoutSec: 3 });
  const plan = testPlan([gpuNode("g1", opts.count ?? "1"), testNode("cpu1"), testNode("amd1", { labels: { "omstack.io/gpu.vendor": "amd" } })]);
  expect(step.targets(plan)).toEqual(["g1"]);
  const h = await hosts.open("g1");
  return { hosts, step, reader: () => soloReader(h.reader(io())), writer: (notes?: string[]) => soloWriter(h.writer(io(notes))) };
}

describe("devices.gpu-check", () => {
  it("a healthy node (real A100 XML, real driver version file): check done, apply passes and changes nothing", async () => {
    const { hosts, step, reader, writer } = await gpuHost({});
    expect(await step.check(reader())).toBe("done");
    const notes: string[] = [];
    await step.apply(writer(notes));
    await step.verify(reader());
    expect(notes).toEqual(["1 NVIDIA GPU(s) answer; driver 535.54.03"]);
    expect(hosts.writes).toEqual([]);
    expect(hosts.queries.map((q) => q.command)).toContain("LC_ALL=C timeout -k 5 3 nvidia-smi -q -x");
  });

  it("falls back to nvidia-smi -q (real H100 text) when the XML form fails", async () => {
    const { step, reader } = await gpuHost({ smi: (cmd) => (cmd.endsWith("-q -x") ? { exitCode: 6, stderr: "Unable to determine the device handle" } : { stdout: H100_TEXT }) });
    expect(await step.check(reader())).toBe("done");
  });

  it("a hung nvidia-smi (timeout's exit 124) fails clearly, without a second try", async () => {
    const { hosts, step, writer } = await gpuHost({ smi: () => ({ exitCode: 124 }) });
    await expect(step.apply(writer())).rejects.toMatchObject({ code: "E_GPU_SMI_FAILED", message: "g1: nvidia-smi did not answer within 3 s (a hung GPU or driver)", remedy: expect.stringContaining("Xid") });
    expect(hosts.queries.filter((q) => q.command.includes("nvidia-smi"))).toHaveLength(1);
  });

  it("a context timeout (no `timeout` tool on the host) is the same verdict", async () => {
    const { step, reader } = await gpuHost({
      smi: (cmd) => {
        throw new CommandError("E_COMMAND_TIMEOUT", "did not finish", cmd, null, "");
      },
    });
    expect(await step.check(reader())).toEqual({ pending: "nvidia-smi did not answer within 3 s (a hung GPU or driver)" });
  });

  it("no driver loaded, and a driver/library mismatch, each with their own remedy, reported together", async () => {
    const { step, writer } = await gpuHost({ driver: false, smi: () => ({ exitCode: 18, stdout: "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.173\n" }) });
    const err = (await step.apply(writer()).catch((e: unknown) => e)) as { code: string; message: string; remedy: string };
    expect(err.code).toBe("E_GPU_DRIVER_MISSING");
    expect(err.message).toBe("g1: 2 problems: the plan makes this an NVIDIA GPU node, but the NVIDIA kernel driver is not loaded (/proc/driver/nvidia/version is missing) | nvidia-smi failed with exit status 18: Failed to initialize NVML: Driver/library version mismatch");
    expect(err.remedy).toContain("reboot the node");
  });

  it("fewer GPUs than the plan's gpu.count, and missing device nodes", async () => {
    const { step, writer } = await gpuHost({ count: "8", missing: ["/dev/nvidia5", "/dev/nvidia7"] });
    await expect(step.apply(writer())).rejects.toMatchObject({ code: "E_GPU_COUNT", message: expect.stringContaining("the plan expects 8 GPUs; nvidia-smi lists 1 | the NVIDIA driver 580.173.02 is loaded but /dev/nvidia5, /dev/nvidia7 are missing") });
    expect(expectedNodes(2)).toEqual(["/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia1"]);
  });

  it("nvidia-smi not installed", () => {
    expect(gpuProblems("g", { expectedCount: 1, driverFile: NV_VERSION, smi: { kind: "missing" }, missingNodes: [] })).toEqual([expect.objectContaining({ code: "E_GPU_SMI_FAILED", message: "g: nvidia-smi is not installed, so the GPUs cannot be checked" })]);
  });

  it("rejects a time limit outside 1–600 s", () => {
    expect(() => devicesGpuCheck({ smiTimeoutSec: 0 })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
  });
});

describe("RDMA ports from sysfs (the listing script, run by sh over a sysfs-shaped tree)", () => {
  const root = mkdtempSync(join(tmpdir(), "omstack-sysfs-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  // What the kernel shows for an mlx5 IPoIB port (ib0 on mlx5_0 port 1), a RoCE port (gid_attrs/ndevs/0) and a DOWN port.
  put("/sys/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n");
  put("/sys/class/infiniband/mlx5_0/ports/1/link_layer", "InfiniBand\n");
  put("/sys/class/infiniband/mlx5_1/ports/1/state", "1: DOWN\n");
  put("/sys/class/infiniband/mlx5_1/ports/1/link_layer", "InfiniBand\n");
  put("/sys/class/infiniband/mlx5_2/ports/1/state", "4: ACTIVE\n");
  put("/sys/class/infiniband/mlx5_2/ports/1/link_layer", "Ethernet\n");
  put("/sys/class/infiniband/mlx5_2/ports/1/gid_attrs/ndevs/0", "enp4s0f0np0\n");
  put("/sys/devices/pci0000:00/0000:00:02.0/infiniband/mlx5_0/.keep", "");
  put("/sys/devices/pci0000:00/0000:00:02.0/ib0-attrs/dev_port", "0\n");
  mkdirSync(join(root, "/sys/class/net/ib0"), { recursive: true });
  symlinkSync(join(root, "/sys/devices/pci0000:00/0000:00:02.0"), join(root, "/sys/class/net/ib0/device"));
  put("/sys/class/net/ib0/dev_port", "0\n");
  put("/sys/class/net/ib0/dev_id", "0x0\n");
  mkdirSync(join(root, "/sys/class/net/lo"), { recursive: true });

  it("lists ports with state, link layer and netdevs (IPoIB by dev_port, RoCE by gid_attrs)", () => {
    const out = execFileSync("sh", ["-c", SYSFS_SCRIPT.replaceAll("/sys/", `${root}/sys/`)], { encoding: "utf8" });
    expect(parseSysfsPorts(out)).toEqual([
      { device: "mlx5_0", port: 1, state: "ACTIVE", linkLayer: "InfiniBand", netdevs: ["ib0"], source: "sysfs" },
      { device: "mlx5_1", port: 1, state: "DOWN", linkLayer: "InfiniBand", netdevs: [], source: "sysfs" },
      { device: "mlx5_2", port: 1, state: "ACTIVE", linkLayer: "Ethernet", netdevs: ["enp4s0f0np0"], source: "sysfs" },
    ]);
    expect(parseSysfsPorts(execFileSync("sh", ["-c", SYSFS_SCRIPT.replaceAll("/sys/", `${root}/none/`)], { encoding: "utf8" }))).toEqual([]);
  });
});

describe("RDMA verdicts", () => {
  const roce = portsFromTools([parseRdmaLink(capture("daocloud-roce-cx5", "rdma-link.txt")).value], parseIbdev2netdev(capture("daocloud-roce-cx5", "ibdev2netdev.txt")).value);
  const ib = portsFromTools([parseIbstat(capture("ibstat-h100-ndr-8x-gpud", "ibstat.txt")).value], []);

  it("merges the tools' view of real RoCE ports", () => {
    expect(roce[0]).toEqual({ device: "mlx5_0", port: 1, state: "ACTIVE", linkLayer: "Ethernet", netdevs: ["enp4s0f0np0"], source: "tools" });
    expect(rdmaProblems("h", "enp4s0f0np0", "Ethernet", roce)).toEqual([]);
  });

  it("wrong link layer, unknown interface, no device, DOWN port", () => {
    expect(rdmaProblems("h", "enp4s0f0np0", "InfiniBand", roce)).toEqual([expect.objectContaining({ code: "E_RDMA_LINK_LAYER", message: "h: mlx5_0 port 1 (enp4s0f0np0) must have link layer InfiniBand as planned; it has Ethernet" })]);
    expect(rdmaProblems("h", "ib0", null, roce)).toEqual([expect.objectContaining({ code: "E_RDMA_PORT_MISSING", message: expect.stringContaining("no RDMA port carries that interface; ports: mlx5_0/1 (enp4s0f0np0), mlx5_1/1 (enp4s0f1np1)") })]);
    expect(rdmaProblems("h", "ib0", null, [])).toEqual([expect.objectContaining({ code: "E_RDMA_PORT_MISSING", message: expect.stringContaining("shows no RDMA device") })]);
    // real 8×NDR ibstat: every InfiniBand port ACTIVE, no netdev known from ibstat alone
    expect(ib.filter((p) => p.linkLayer === "InfiniBand").every((p) => p.state === "ACTIVE" && p.netdevs.length === 0)).toBe(true);
    const init = { device: "mlx5_0", port: 1, state: "INIT", linkLayer: "InfiniBand" as const, netdevs: ["ib0"], source: "sysfs" as const };
    expect(rdmaProblems("h", "ib0", "InfiniBand", [init])).toEqual([expect.objectContaining({ code: "E_RDMA_PORT_DOWN", message: "h: mlx5_0 port 1 (ib0) must be ACTIVE; it is INIT", remedy: expect.stringContaining("subnet manager") })]);
  });

  it("targets only nodes with an rdmaInterface, reads the link-layer label, and refuses a bad interface name", async () => {
    const step = devicesRdmaCheck();
    const plan = testPlan([testNode("r1", { rdmaInterface: "ib0", labels: { "omstack.io/rdma.link-layer": "InfiniBand" } }), testNode("c1")]);
    expect(step.targets(plan)).toEqual(["r1"]);
    expect(plannedRdma(plan.nodes[0]!)).toEqual({ iface: "ib0", linkLayer: "InfiniBand" });
    expect(plannedRdma(testNode("m", { rdmaInterface: "ib0", labels: { "omstack.io/rdma.link-layer": "mixed" } }))).toEqual({ iface: "ib0", linkLayer: null });
    expect(() => plannedRdma(testNode("x", { rdmaInterface: "ib0; reboot" }))).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
    const hosts = new MemoryHosts(["r1"]);
    hosts.commandHandler = (_h, cmd) => (cmd === SYSFS_SCRIPT ? { stdout: "port\tmlx5_0\t1\t4: ACTIVE\tInfiniBand\t\nnetdev\tib0\tmlx5_0\t0\t0x0\n" } : { exitCode: 127 });
    const h = await hosts.open("r1");
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
    expect(step.describe(soloReader(h.reader(io())))).toEqual(["read-only: the RDMA port carrying ib0 (/sys/class/infiniband/*/ports/*) must be ACTIVE with link layer InfiniBand"]);
  });
});
