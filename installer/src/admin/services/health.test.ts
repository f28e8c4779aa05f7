import { describe, expect, it } from "vitest";
import { demoSnapshot } from "../testing/seed.js";
import { nodeHealth, summarizeHealth } from "./health.js";

const now = new Date("2026-01-10T00:00:00Z");
const disk = { path: "/s", dbBytes: 1, freeBytes: 50, totalBytes: 100 };

describe("summarizeHealth", () => {
  it("is green only when every part is green", () => {
    const s = demoSnapshot(now);
    s.facts[1]!.rdma = s.facts[1]!.rdma.filter((p) => p.state === "ACTIVE");
    s.services = s.services.filter((x) => x.status === "healthy");
    s.certificates = s.certificates.filter((c) => c.name === "apiserver");
    expect(summarizeHealth(s, disk, now).light).toBe("green");
  });

  it("turns red for a NotReady node, an expiring certificate, a full state disk, or an etcd majority down", () => {
    const cases: ((s: ReturnType<typeof demoSnapshot>) => void)[] = [
      (s) => (s.nodes[0]!.ready = false),
      (s) => (s.certificates[0]!.notAfter = new Date(now.getTime() + 3 * 86_400_000).toISOString()),
      (s) => (s.etcd = [{ name: "a", healthy: false, dbSizeBytes: null }]),
      (s) => (s.services[0]!.status = "down"),
    ];
    for (const change of cases) {
      const s = demoSnapshot(now);
      change(s);
      expect(summarizeHealth(s, disk, now).light).toBe("red");
    }
    expect(summarizeHealth(demoSnapshot(now), { ...disk, freeBytes: 2 }, now).stateDir.light).toBe("red");
  });

  it("reports an empty cluster as amber, not green", () => {
    const r = summarizeHealth({ nodes: [], systemPods: [], services: [], certificates: [], etcd: [], components: {}, facts: [] }, disk, now);
    expect(r.light).toBe("amber");
  });
});

describe("nodeHealth", () => {
  it("counts GPUs per model and RDMA ports by state", () => {
    const facts = demoSnapshot(now).facts.find((f) => f.host === "gpu-01");
    const n = nodeHealth("gpu-01", ["worker"], true, null, facts);
    expect(n.gpus).toEqual([{ model: "NVIDIA B200", count: 2 }]);
    expect(n.rdma).toMatchObject({ ports: 3, active: 2, maxRateGbps: 200 });
    expect(n.light).toBe("amber");
    expect(n.reasons).toEqual(["1 of 3 RDMA ports not ACTIVE"]);
  });

  it("is amber without facts and red when the host is unreachable", () => {
    expect(nodeHealth("x", [], true, null, undefined).light).toBe("amber");
    const facts = demoSnapshot(now).facts[0]!;
    expect(nodeHealth("x", [], true, null, { ...facts, reachable: false, error: "timeout" }).light).toBe("red");
  });
});
