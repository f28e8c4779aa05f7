import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HostFacts } from "../probe/facts.js";
import { loadServiceDir } from "../preflight/services.fs.js";
import { gpu, host, port } from "../preflight/testing/hosts.js";
import { preflightAndPlan } from "./pipeline.js";
import { DEFAULT_BUNDLE_VERSIONS } from "./defaults.js";
import { renderDiff, renderPlan } from "./render.js";
import { diffPlans } from "./diff.js";
import { plainStyle } from "../probe/render.js";

const services = loadServiceDir(join(import.meta.dirname, "../../../services"));
const bundle = { version: "t", ...DEFAULT_BUNDLE_VERSIONS };
const GiB = 2 ** 30;
const run = (facts: HostFacts[], ignore: string[] = [], wipe: Record<string, string[]> = {}) =>
  preflightAndPlan({ inventory: { hosts: facts.map((f) => ({ name: f.host, ...(wipe[f.host] ? { wipe: wipe[f.host] } : {}) })) }, facts, bundle, services, ignore });

describe("preflightAndPlan", () => {
  it("checks each host against the roles the plan gives it (the control plane's ports and minimums)", () => {
    const cpu = host("cpu-01", { cpu: { threads: 8, cores: 4 }, memory: { totalBytes: 12 * GiB }, system: { listeningPorts: [{ proto: "tcp", address: "0.0.0.0", port: 2379 }] } });
    const g = host("gpu-01", { gpus: [gpu(0)], gpuDriver: { version: "570.124.06", cudaVersion: "12.8" } });
    const { outcomes, plan } = run([cpu, g]);
    expect(plan.nodes.find((n) => n.host === "cpu-01")!.roles).toContain("control-plane");
    // etcd's port 2379 only matters on a control plane; the planner made cpu-01 one
    expect(outcomes.find((o) => o.checkId === "ports.free" && o.host === "cpu-01")).toMatchObject({ status: "fail", found: "in use: 2379" });
    expect(outcomes.find((o) => o.checkId === "memory.total" && o.host === "gpu-01")?.required).toContain("worker + gpu");
  });

  it("RDMA port checks apply only when the RDMA-using service is enabled", () => {
    const down = (n: string) => host(n, { rdma: [port("mlx5_0", "InfiniBand", "DOWN")] });
    const on = run([down("a"), down("b")]);
    expect(on.plan.services.find((s) => s.name === "bigdata")?.enabled).toBe(true);
    expect(on.outcomes.find((o) => o.checkId === "rdma.ports-active" && o.host === "a")?.status).toBe("fail");
    const small = (n: string) => host(n, { cpu: { threads: 4, cores: 2 }, memory: { totalBytes: 16 * GiB }, rdma: [port("mlx5_0", "InfiniBand", "DOWN")] });
    const off = run([small("a"), small("b")]);
    expect(off.plan.services.find((s) => s.name === "bigdata")?.enabled).toBe(false);
    expect(off.outcomes.find((o) => o.checkId === "rdma.ports-active")).toBeUndefined();
  });

  it("records bypassed checks in the plan, and the human views call out erasures", () => {
    const h = host("s1", { system: { swapBytes: 4 * GiB }, disks: [{ name: "nvme0n1", sizeBytes: 960 * 10 ** 9, rotational: false, transport: "nvme", type: "disk", model: null, fstype: "xfs", mountpoints: [], children: [] }] });
    const before = run([h], ["swap.off"]);
    expect(before.plan.bypassedChecks).toEqual(["swap.off"]);
    expect(before.outcomes.find((o) => o.checkId === "swap.off")?.status).toBe("bypassed");
    expect(renderPlan(before.plan, plainStyle)).toContain("Disks that will be ERASED\n  (none");
    const after = run([h], ["swap.off"], { s1: ["nvme0n1"] });
    expect(renderPlan(after.plan, plainStyle)).toMatch(/!! s1: \/dev\/nvme0n1 894 GiB nvme → omstack-\w+ — .*ERASED/);
    const diff = renderDiff(diffPlans(before.plan, after.plan), "old.json", plainStyle);
    expect(diff).toContain("!! nodes.s1.disks.nvme0n1.wipe: false → true  (adds a disk to ERASE)");
    expect(renderDiff([], "old.json", plainStyle)).toBe("No changes since old.json.\n");
  });
});
