import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OmstackError } from "../errors.js";
import type { DiskFacts } from "../probe/facts.js";
import { ExpressionError } from "./expressions/index.js";
import { evaluateServices, loadServiceSpec } from "./services.js";
import { loadServiceDir } from "./services.fs.js";
import { gpu, host, port } from "./testing/hosts.js";

const SERVICES_DIR = join(import.meta.dirname, "../../../services");
const BUNDLE = { cudaVersion: "12.8", kubernetesVersion: "1.33.4", containerdVersion: "2.1.4" };
const specs = loadServiceDir(SERVICES_DIR);

const nvme = (name: string, over: Partial<DiskFacts> = {}): DiskFacts => ({
  name,
  sizeBytes: 3_840_755_982_336,
  rotational: false,
  transport: "nvme",
  type: "disk",
  model: "SAMSUNG MZQL23T8HCLS-00A07",
  fstype: null,
  mountpoints: [],
  children: [],
  ...over,
});
const nic = { name: "ens3f0", mac: null, addresses: ["10.0.0.11/24"], state: "UP", mtu: 1500, speedMbps: 25000, rdmaDevice: null };

function fail(f: () => unknown): OmstackError {
  try {
    f();
  } catch (e) {
    if (e instanceof OmstackError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("the shipped service.yaml files", () => {
  it("load and type-check", () => {
    expect(specs.map((s) => s.name)).toEqual(["ai", "batch", "bigdata", "intranet-proxy", "portal", "predict"]);
    expect(specs.find((s) => s.name === "ai")?.dependsOn).toEqual(["batch"]);
  });
});

describe("service evaluation", () => {
  const cpuOnly = [host("cpu-01", { nics: [nic] }), host("cpu-02", { nics: [nic] })];
  const gpuCluster = [
    host("gpu-01", { gpus: [gpu(0), gpu(1)], gpuDriver: { version: "570.124.06", cudaVersion: "12.8" }, rdma: [port("mlx5_0", "InfiniBand")], disks: [nvme("nvme0n1")], nics: [nic] }),
    host("gpu-02", { gpus: [gpu(0, undefined, undefined, "enabled")], gpuDriver: { version: "570.124.06", cudaVersion: "12.8" }, rdma: [port("mlx5_0", "InfiniBand")], nics: [nic] }),
  ];
  const byName = (r: ReturnType<typeof evaluateServices>, n: string) => r.find((s) => s.name === n)!;

  it("a CPU-only cluster disables ai with the reason and remedy", () => {
    const r = evaluateServices(specs, cpuOnly, { bundle: BUNDLE });
    const ai = byName(r, "ai");
    expect(ai.enabled).toBe(false);
    expect(ai.reason).toContain("needs 1 host with a node with an NVIDIA GPU");
    expect(ai.reason).toContain("none qualify");
    expect(ai.reason).toContain("install the NVIDIA driver");
    expect(byName(r, "batch").enabled).toBe(true);
    expect(byName(r, "bigdata").features.find((f) => f.id === "bigdata.rdma-shuffle")?.met).toBe(false);
  });

  it("a GPU + RDMA cluster enables ai, RDMA shuffle, MIG and the cache where an empty NVMe exists", () => {
    const r = evaluateServices(specs, gpuCluster, { bundle: BUNDLE });
    expect(byName(r, "ai").enabled).toBe(true);
    const f = (svc: string, id: string) => byName(r, svc).features.find((x) => x.id === id)!;
    expect(f("bigdata", "bigdata.rdma-shuffle")).toMatchObject({ met: true, hosts: ["gpu-01", "gpu-02"] });
    expect(f("bigdata", "bigdata.cache")).toMatchObject({ met: true, hosts: ["gpu-01"] });
    expect(f("ai", "ai.mig").hosts).toEqual(["gpu-02"]);
    expect(f("ai", "ai.gpu-sharing").hosts).toEqual(["gpu-01"]);
    expect(f("intranet-proxy", "intranet-proxy.ha").met).toBe(true);
  });

  it("a disk with partitions, a filesystem or a mount is never the cache", () => {
    const used = [
      nvme("nvme0n1", { children: [nvme("nvme0n1p1", { type: "part" })] }),
      nvme("nvme1n1", { fstype: "LVM2_member" }),
      nvme("nvme2n1", { mountpoints: ["/data"] }),
      nvme("sda", { rotational: true }),
    ];
    const r = evaluateServices(specs, [host("h-01", { disks: used })], { bundle: BUNDLE });
    expect(byName(r, "bigdata").features.find((x) => x.id === "bigdata.cache")?.met).toBe(false);
  });

  it("RDMA shuffle needs an ACTIVE port on two nodes", () => {
    const r = evaluateServices(specs, [gpuCluster[0]!, host("x", { rdma: [port("mlx5_0", "InfiniBand", "DOWN")] })], { bundle: BUNDLE });
    expect(byName(r, "bigdata").features.find((x) => x.id === "bigdata.rdma-shuffle")?.met).toBe(false);
  });

  it("a service whose dependency is disabled is disabled too", () => {
    const tiny = [host("tiny", { cpu: { threads: 1, cores: 1 }, memory: { totalBytes: 2 * 2 ** 30 } })];
    const r = evaluateServices(specs, tiny, { bundle: BUNDLE });
    expect(byName(r, "batch").enabled).toBe(false);
    expect(byName(r, "portal").reason).toContain("it needs batch, which is disabled");
  });
});

describe("service.yaml validation errors point at file:line:column", () => {
  const good = `name: demo
title: Demo
description: d
requires:
  - id: demo.x
    description: a host
    hosts: memory.totalBytes >= 1Gi
    remedy: add memory
`;
  it("accepts the minimal file", () => {
    expect(loadServiceSpec(good, "demo.yaml").requires[0]?.atLeast).toBe(1);
  });
  const cases: [string, string, string, number, number][] = [
    ["unknown top-level key", good.replace("title:", "titel:"), "unknown key 'titel' (did you mean 'title'?)", 2, 1],
    ["missing requires", good.slice(0, good.indexOf("requires:")), "missing 'requires'", 1, 1],
    ["bad id prefix", good.replace("demo.x", "other.x"), "must start with the service name", 5, 9],
    ["bad atLeast", good.replace("    remedy", "    atLeast: 0\n    remedy"), "'atLeast' must be a whole number", 8, 14],
    ["YAML syntax (duplicate key)", good.replace("description: d\n", "description: d\ntitle: again\n"), "YAML syntax error", 4, 1],
    ["name/dir mismatch", good, "does not match its directory", 1, 7],
  ];
  it.each(cases)("%s", (_what, text, msg, line, column) => {
    const e = fail(() => loadServiceSpec(text, "demo.yaml", _what === "name/dir mismatch" ? "other" : undefined));
    expect(e.message).toContain(msg);
    expect(e.location).toMatchObject({ file: "demo.yaml", line, column });
  });

  it("an expression typo is reported inside the YAML file", () => {
    const e = fail(() => loadServiceSpec(good.replace("memory.totalBytes", "memory.totalByte"), "demo.yaml"));
    expect(e).toBeInstanceOf(ExpressionError);
    expect(e.code).toBe("E_EXPR_TYPE");
    expect(e.location).toMatchObject({ file: "demo.yaml", line: 7, column: 19 });
    expect((e as ExpressionError).snippet).toContain("hosts: memory.totalByte >= 1Gi");
  });

  it("an expression error inside a quoted scalar accounts for the quote", () => {
    const e = fail(() => loadServiceSpec(good.replace("memory.totalBytes >= 1Gi", '"memory.totalBytes >= 1Gb"'), "demo.yaml"));
    expect(e.code).toBe("E_EXPR_SYNTAX");
    // the caret sits under the unit "Gb": column 13 is the expression's first character
    expect(e.location).toMatchObject({ line: 7, column: 35 });
    expect((e as ExpressionError).snippet.split("\n")[1]?.indexOf("^")).toBe(34);
  });

  it("an expression error inside a block scalar lands on the right line", () => {
    const text = good.replace("    hosts: memory.totalBytes >= 1Gi", "    hosts: |\n      memory.totalBytes >= 1Gi &&\n        gpus.count() >= x.y");
    const e = fail(() => loadServiceSpec(text, "demo.yaml"));
    expect(e.location).toMatchObject({ line: 9 });
  });

  it("a non-boolean requirement is refused", () => {
    const e = fail(() => loadServiceSpec(good.replace("memory.totalBytes >= 1Gi", "memory.totalBytes"), "demo.yaml"));
    expect(e.code).toBe("E_EXPR_TYPE");
    expect(e.message).toContain("true or false");
  });
});
