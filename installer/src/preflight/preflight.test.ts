import { describe, expect, it } from "vitest";
import { OmstackError } from "../errors.js";
import { unreachableFacts, type HostFacts } from "../probe/facts.js";
import { CHECKS } from "./checks.js";
import { compileChecks, evaluatePreflight, hasFailures, type PreflightContext } from "./preflight.js";
import { gpu, host, port } from "./testing/hosts.js";

const BUNDLE = { cudaVersion: "12.8", kubernetesVersion: "1.33.4", containerdVersion: "2.1.4" };
const ctx = (over: Partial<PreflightContext> = {}): PreflightContext => ({ bundle: BUNDLE, ignore: [], ...over });

function outcome(facts: HostFacts[], id: string, c: PreflightContext = ctx(), hostName = "t-01") {
  const all = evaluatePreflight(facts, c).filter((o) => o.checkId === id && o.host === (id.startsWith("bundle.") ? "bundle" : hostName));
  expect(all.length).toBeLessThanOrEqual(1);
  return all[0];
}

const gpuOk = { gpus: [gpu(0), gpu(1)], gpuDriver: { version: "570.124.06", cudaVersion: "12.8" } };
const ibNic = (mtu: number) => ({ name: "ibp1s0", mac: null, addresses: [], state: "UP", mtu, speedMbps: null, rdmaDevice: "mlx5_0" });

interface Case {
  id: string;
  pass: HostFacts[];
  fail: HostFacts[];
  ctx?: Partial<PreflightContext>;
  failStatus?: "fail" | "warn";
  foundContains?: string;
  remedyContains?: string;
}

const cases: Case[] = [
  { id: "os.supported", pass: [host("t-01")], fail: [host("t-01", { os: { id: "arch", versionId: null, prettyName: "Arch Linux", idLike: [] } })], foundContains: "Arch Linux" },
  { id: "os.arch", pass: [host("t-01")], fail: [host("t-01", { arch: "ppc64le" })], foundContains: "ppc64le" },
  { id: "kernel.minimum", pass: [host("t-01")], fail: [host("t-01", { kernel: "2.6.32-754.el6.x86_64" })], foundContains: "2.6.32" },
  { id: "kernel.recommended", pass: [host("t-01")], fail: [host("t-01", { kernel: "3.10.0-1160.el7.x86_64" })], failStatus: "warn" },
  { id: "cpu.cores", pass: [host("t-01")], fail: [host("t-01", { cpu: { threads: 2, cores: 2 } })], foundContains: "2 CPUs" },
  {
    id: "cpu.cores",
    pass: [host("t-01", { cpu: { threads: 4, cores: 4 } })],
    fail: [host("t-01", { cpu: { threads: 4, cores: 4 }, gpus: [gpu(0)] })],
    foundContains: "4 CPUs",
  },
  { id: "memory.total", pass: [host("t-01")], fail: [host("t-01", { memory: { totalBytes: 8 * 2 ** 30 } })], foundContains: "8 GiB" },
  { id: "disk.var-free", pass: [host("t-01")], fail: [host("t-01", { system: { varFreeBytes: 20 * 2 ** 30 } })], foundContains: "20 GiB free" },
  {
    id: "disk.var-free",
    pass: [host("t-01", { system: { varFreeBytes: 300 * 2 ** 30 } })],
    fail: [host("t-01", { system: { varFreeBytes: 300 * 2 ** 30 } })],
    ctx: {},
  },
  { id: "swap.off", pass: [host("t-01")], fail: [host("t-01", { system: { swapBytes: 8 * 2 ** 30 } })], remedyContains: "swapoff -a" },
  { id: "time.sync", pass: [host("t-01")], fail: [host("t-01", { system: { timeSynchronized: false } })], remedyContains: "apt-get install -y chrony" },
  { id: "runtime.docker-conflict", pass: [host("t-01")], fail: [host("t-01", { system: { containerRuntimes: ["docker", "dockerd", "containerd"] } })], remedyContains: "apt-get remove -y docker-ce" },
  { id: "runtime.existing", pass: [host("t-01")], fail: [host("t-01", { system: { containerRuntimes: ["containerd"] } })], failStatus: "warn" },
  {
    id: "ports.free",
    pass: [host("t-01", { system: { listeningPorts: [{ proto: "tcp", address: "0.0.0.0", port: 6443 }] } })],
    fail: [host("t-01", { system: { listeningPorts: [{ proto: "tcp", address: "0.0.0.0", port: 10250 }] } })],
    foundContains: "10250",
    remedyContains: "sport = :10250",
  },
  {
    id: "ports.free",
    pass: [host("t-01")],
    fail: [host("t-01", { system: { listeningPorts: [{ proto: "tcp", address: "127.0.0.1", port: 2379 }] } })],
    ctx: { roles: { "t-01": ["control-plane"] } },
    foundContains: "2379",
  },
  { id: "kernel.modules", pass: [host("t-01")], fail: [host("t-01", { system: { kernelModules: ["overlay"] } })], failStatus: "warn", foundContains: "br_netfilter" },
  { id: "gpu.driver-present", pass: [host("t-01", gpuOk)], fail: [host("t-01", { gpus: [gpu(0)] })], remedyContains: "≥ 570.26" },
  {
    id: "gpu.driver-cuda",
    pass: [host("t-01", gpuOk)],
    fail: [host("t-01", { gpus: [gpu(0)], gpuDriver: { version: "535.54.03", cudaVersion: "12.2" } })],
    foundContains: "supports CUDA ≤ 12.2",
    remedyContains: "install NVIDIA driver ≥ 570.26, or use a bundle built for CUDA 12.2",
  },
  {
    id: "gpu.mig-host",
    pass: [host("t-01", { ...gpuOk, gpus: [gpu(0, undefined, undefined, "enabled"), gpu(1, undefined, undefined, "enabled")] })],
    fail: [host("t-01", { ...gpuOk, gpus: [gpu(0, undefined, undefined, "enabled"), gpu(1, undefined, undefined, "disabled")] })],
    failStatus: "warn",
  },
  {
    id: "gpu.mig-cluster",
    pass: [host("t-01", gpuOk), host("t-02", gpuOk)],
    fail: [host("t-01", gpuOk), host("t-02", { ...gpuOk, gpus: [gpu(0, undefined, undefined, "enabled")] })],
    failStatus: "warn",
    foundContains: "disabled/enabled",
  },
  {
    id: "rdma.ports-active",
    pass: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand")] })],
    fail: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand", "DOWN")] })],
    foundContains: "mlx5_0/1 DOWN",
    remedyContains: "opensm",
  },
  {
    id: "rdma.ports-down",
    pass: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand")] })],
    fail: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand"), port("mlx5_1", "InfiniBand", "DOWN")] })],
    failStatus: "warn",
  },
  {
    id: "rdma.link-layer",
    pass: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand")] }), host("t-02", { rdma: [port("mlx5_0", "InfiniBand")] }), host("t-03", { rdma: [port("mlx5_0", "InfiniBand")] })],
    fail: [host("t-01", { rdma: [port("mlx5_0", "Ethernet")] }), host("t-02", { rdma: [port("mlx5_0", "InfiniBand")] }), host("t-03", { rdma: [port("mlx5_0", "InfiniBand")] })],
    foundContains: "Ethernet: mlx5_0 Ethernet",
    remedyContains: "mlxconfig -d <device> set LINK_TYPE_P1=1",
  },
  {
    id: "rdma.mixed-fabrics",
    pass: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand")] }), host("t-02", { rdma: [port("mlx5_0", "InfiniBand")] })],
    fail: [host("t-01", { rdma: [port("mlx5_0", "InfiniBand")] }), host("t-02", { rdma: [port("mlx5_0", "Ethernet")] })],
    failStatus: "warn",
    remedyContains: "nothing to do",
  },
  {
    id: "rdma.mtu",
    pass: [host("t-01", { nics: [ibNic(4092)] }), host("t-02", { nics: [ibNic(4092)] })],
    fail: [host("t-01", { nics: [ibNic(2044)] }), host("t-02", { nics: [ibNic(4092)] })],
    failStatus: "warn",
  },
  {
    id: "ofed.os",
    pass: [host("t-01", { ofed: { version: "5.9-0.5.6.0" } })],
    fail: [host("t-01", { ofed: { version: "5.9-0.5.6.0" }, os: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)", idLike: [] } })],
    failStatus: "warn",
  },
  {
    id: "cluster.hostname-unique",
    pass: [host("t-01"), host("t-02")],
    fail: [host("t-01"), host("T-01")],
    foundContains: "used by 2 hosts",
  },
  {
    id: "bundle.containerd-kubernetes",
    pass: [host("t-01")],
    fail: [host("t-01")],
    ctx: {},
  },
];

describe("the check table", () => {
  it("compiles (every expression and template type-checks against HostFacts)", () => {
    expect(compileChecks().length).toBe(CHECKS.length);
  });
  it("has unique ids", () => {
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length);
  });
  it("every check is covered by a pass and a fail case below", () => {
    const covered = new Set(cases.map((c) => c.id));
    expect(CHECKS.map((c) => c.id).filter((id) => !covered.has(id))).toEqual([]);
  });
});

describe("every check passes on a good host and fails on a bad one", () => {
  it.each(cases.filter((c) => c.id !== "disk.var-free" || c.ctx === undefined).filter((c) => c.id !== "bundle.containerd-kubernetes"))("$id", (c) => {
    const p = outcome(c.pass, c.id, ctx(c.ctx));
    expect(p?.status).toBe("pass");
    const f = outcome(c.fail, c.id, ctx(c.ctx));
    expect(f?.status).toBe(c.failStatus ?? "fail");
    expect(f?.required.length).toBeGreaterThan(0);
    expect(f?.remedy.length).toBeGreaterThan(0);
    if (c.foundContains) expect(f?.found).toContain(c.foundContains);
    if (c.remedyContains) expect(f?.remedy).toContain(c.remedyContains);
  });

  it("disk.var-free needs twice the extracted bundle", () => {
    const h = [host("t-01", { system: { varFreeBytes: 300 * 2 ** 30 } })];
    expect(outcome(h, "disk.var-free", ctx({ bundle: { ...BUNDLE, extractedBytes: 100 * 2 ** 30 } }))?.status).toBe("pass");
    const f = outcome(h, "disk.var-free", ctx({ bundle: { ...BUNDLE, extractedBytes: 200 * 2 ** 30 } }));
    expect(f?.status).toBe("fail");
    expect(f?.required).toContain("400 GiB");
  });

  it("bundle.containerd-kubernetes checks the bundle once", () => {
    expect(outcome([host("t-01")], "bundle.containerd-kubernetes")?.status).toBe("pass");
    const f = outcome([host("t-01")], "bundle.containerd-kubernetes", ctx({ bundle: { ...BUNDLE, containerdVersion: "1.6.20" } }));
    expect(f?.status).toBe("fail");
    expect(f?.required).toContain("2.1.0+");
    const u = outcome([host("t-01")], "bundle.containerd-kubernetes", ctx({ bundle: { ...BUNDLE, kubernetesVersion: "1.20.0" } }));
    expect(u?.status).toBe("warn");
  });
});

describe("missing facts and unreachable hosts", () => {
  it("a fact the probe could not read is a warning, not a pass", () => {
    const h = host("t-01", { system: { swapBytes: null } });
    const o = outcome([h], "swap.off");
    expect(o?.status).toBe("warn");
    expect(o?.found).toContain("unknown");
  });
  it("an unknown OS is a failure", () => {
    const h = { ...host("t-01"), os: null };
    expect(outcome([h], "os.supported")?.status).toBe("fail");
  });
  it("an unreachable host gets one failing host.reachable outcome", () => {
    const out = evaluatePreflight([unreachableFacts("t-09", "connect ECONNREFUSED 10.0.0.9:22", "E_SSH_CONNECT")], ctx());
    expect(out.filter((o) => o.host === "t-09")).toHaveLength(1);
    expect(out.find((o) => o.host === "t-09")).toMatchObject({ checkId: "host.reachable", status: "fail", found: "connect ECONNREFUSED 10.0.0.9:22" });
  });
  it("GPU checks do not apply to CPU hosts", () => {
    expect(outcome([host("t-01")], "gpu.driver-present")).toBeUndefined();
    expect(outcome([host("t-01")], "gpu.driver-cuda")).toBeUndefined();
  });
  it("RDMA port checks do not apply when RDMA services are off", () => {
    const h = [host("t-01", { rdma: [port("mlx5_0", "InfiniBand", "DOWN")] })];
    expect(outcome(h, "rdma.ports-active", ctx({ rdmaServices: false }))).toBeUndefined();
  });
  it("an empty HostFacts never throws and never passes the OS check", () => {
    const out = evaluatePreflight([{ ...host("t-01"), os: null, kernel: null, cpu: null, memory: null }], ctx());
    expect(out.find((o) => o.checkId === "os.supported")?.status).toBe("fail");
    expect(out.filter((o) => o.found.startsWith("the check could not be evaluated"))).toEqual([]);
  });
});

describe("--ignore", () => {
  const bad = [host("t-01", { system: { swapBytes: 2 ** 30 } })];
  it("turns a failure into bypassed, never pass", () => {
    const o = outcome(bad, "swap.off", ctx({ ignore: ["swap.off"] }));
    expect(o?.status).toBe("bypassed");
    expect(o?.severity).toBe("fail");
    expect(hasFailures(evaluatePreflight(bad, ctx({ ignore: ["swap.off"] })))).toBe(false);
    expect(hasFailures(evaluatePreflight(bad, ctx()))).toBe(true);
  });
  it("leaves a passing check passing", () => {
    expect(outcome([host("t-01")], "swap.off", ctx({ ignore: ["swap.off"] }))?.status).toBe("pass");
  });
  it("rejects an unknown id with a suggestion", () => {
    try {
      evaluatePreflight(bad, ctx({ ignore: ["swap.of"] }));
      throw new Error("expected an error");
    } catch (e) {
      expect(e).toBeInstanceOf(OmstackError);
      expect((e as OmstackError).code).toBe("E_PREFLIGHT_IGNORE");
      expect((e as OmstackError).message).toContain("did you mean 'swap.off'");
    }
  });
});

describe("scale", () => {
  it("1,000 hosts are evaluated in one pass with every check", () => {
    const many = Array.from({ length: 1000 }, (_, i) => host(`n-${String(i).padStart(4, "0")}`, i % 4 === 0 ? { ...gpuOk, rdma: [port("mlx5_0", "InfiniBand")] } : {}));
    const out = evaluatePreflight(many, ctx());
    expect(new Set(out.map((o) => o.host)).size).toBe(1001);
    expect(out.filter((o) => o.status === "fail")).toEqual([]);
  });
});

describe("docs/preflight.md", () => {
  it("describes every check", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(new URL("../../../docs/preflight.md", import.meta.url), "utf8");
    expect(CHECKS.map((c) => c.id).filter((id) => !doc.includes(`### \`${id}\``))).toEqual([]);
  });
});

describe("rdma.link-layer in mixed fabrics", () => {
  const ib = (n: string) => host(n, { rdma: [port("mlx5_0", "InfiniBand")] });
  const roce = (n: string) => host(n, { rdma: [port("mlx5_0", "Ethernet")] });
  it("accepts an even InfiniBand/RoCE split (two fabrics by design)", () => {
    const facts = [ib("t-01"), ib("t-02"), roce("t-03"), roce("t-04")];
    for (const h of ["t-01", "t-03"]) expect(outcome(facts, "rdma.link-layer", ctx(), h)?.status).toBe("pass");
  });
  it("catches the odd one out", () => {
    const facts = [ib("t-01"), ib("t-02"), roce("t-03")];
    expect(outcome(facts, "rdma.link-layer", ctx(), "t-03")?.status).toBe("fail");
    expect(outcome(facts, "rdma.link-layer", ctx(), "t-01")?.status).toBe("pass");
  });
});
