// Preflight over facts parsed from REAL captured output (tests/fixtures/captures, each with a SOURCE.md).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HostFacts } from "../probe/facts.js";
import { parseCaptures } from "../probe/parse/index.js";
import { maxCudaForDriver, minDriverForCuda } from "./matrices/index.js";
import { evaluatePreflight } from "./preflight.js";

const DIR = join(import.meta.dirname, "../../../tests/fixtures/captures");
const BUNDLE = { cudaVersion: "12.8", kubernetesVersion: "1.33.4", containerdVersion: "2.1.4" };

/** HostFacts from one or more capture folders merged (a host's files may come from several sources). */
function factsFrom(host: string, ...folders: string[]): HostFacts {
  const captures = new Map<string, string>();
  for (const folder of folders) for (const f of readdirSync(join(DIR, folder))) if (f !== "SOURCE.md") captures.set(f, readFileSync(join(DIR, folder, f), "utf8"));
  return parseCaptures(host, captures);
}

const get = (out: ReturnType<typeof evaluatePreflight>, id: string, host: string) => out.find((o) => o.checkId === id && o.host === host);

describe("preflight on real captures", () => {
  it("a real Debian 12 machine: every check evaluates, and the OS is accepted", () => {
    const f = factsFrom("devvm", "devvm-debian12");
    const out = evaluatePreflight([f], { bundle: BUNDLE, ignore: [] });
    expect(out.filter((o) => o.found.startsWith("the check could not be evaluated"))).toEqual([]);
    expect(get(out, "os.supported", "devvm")?.status).toBe("pass");
    expect(get(out, "os.supported", "devvm")?.found).toContain("Debian GNU/Linux 12");
    expect(get(out, "cpu.cores", "devvm")?.found).toBe(`${f.cpu?.threads ?? f.cpu?.cores} CPUs`);
  });

  it("a real A100 host with driver 510.47.03 is caught as too old for CUDA 12.8, with the fix", () => {
    const f = factsFrom("gpu-a100", "devvm-debian12", "nvsmi-xml-a100-40gb-mig-510");
    expect(f.gpuDriver?.version).toBe("510.47.03");
    const out = evaluatePreflight([f], { bundle: BUNDLE, ignore: [] });
    const o = get(out, "gpu.driver-cuda", "gpu-a100");
    expect(o?.status).toBe("fail");
    const need = minDriverForCuda("12.8")!.minLinuxDriver;
    const max = maxCudaForDriver("510.47.03")!.cuda;
    expect(o?.required).toContain(`driver ≥ ${need}`);
    expect(o?.remedy).toBe(`install NVIDIA driver ≥ ${need}, or use a bundle built for CUDA ${max}`);
    // the same host passes with a bundle its driver supports
    expect(get(evaluatePreflight([f], { bundle: { ...BUNDLE, cudaVersion: max }, ignore: [] }), "gpu.driver-cuda", "gpu-a100")?.status).toBe("pass");
  });

  it("real H100 nodes with InfiniBand plus an Ethernet NIC pass; one whose ConnectX-7 ports were switched to Ethernet fails", () => {
    const mixed = factsFrom("h100-mixed", "devvm-debian12", "ibstat-h100-mixed-gpud");
    const ib = factsFrom("h100-a", "devvm-debian12", "ibstat-h100-ndr-8x-gpud");
    expect(mixed.rdma.some((p) => p.linkLayer === "Ethernet" && p.state === "ACTIVE")).toBe(true);
    expect(mixed.rdma.some((p) => p.linkLayer === "InfiniBand" && p.state === "ACTIVE")).toBe(true);
    const ok = evaluatePreflight([mixed, ib], { bundle: BUNDLE, ignore: [] });
    expect(get(ok, "rdma.link-layer", "h100-mixed")?.status).toBe("pass");
    expect(get(ok, "rdma.link-layer", "h100-a")?.status).toBe("pass");
    // the classic trap: the same real node, its InfiniBand ports set to Ethernet with mlxconfig
    const trap: HostFacts = { ...ib, host: "h100-trap", rdma: ib.rdma.map((p) => ({ ...p, linkLayer: "Ethernet" as const })) };
    const out = evaluatePreflight([mixed, ib, trap], { bundle: BUNDLE, ignore: [] });
    const o = get(out, "rdma.link-layer", "h100-trap");
    expect(o?.status).toBe("fail");
    expect(o?.found.startsWith("Ethernet:")).toBe(true);
    expect(o?.required).toContain("2 hosts Ethernet+InfiniBand, 1 host Ethernet");
    expect(get(out, "rdma.link-layer", "h100-a")?.status).toBe("pass");
  });
});
