// Pure: turns a cluster snapshot into the traffic-light health report the overview shows.
import type { DiskFacts, HostFacts } from "../../probe/facts.js";
import type { ClusterSnapshot, EtcdMemberState, PodState, ServiceState } from "../ports.js";

export type Light = "green" | "amber" | "red";

/** Certificates closer than this to expiry turn amber, and red under CERT_RED_DAYS. */
export const CERT_AMBER_DAYS = 30;
export const CERT_RED_DAYS = 7;

export interface NodeHealth {
  name: string;
  roles: string[];
  ready: boolean | null;
  kubeletVersion: string | null;
  light: Light;
  reasons: string[];
  gpus: { model: string; count: number }[];
  gpuDriver: string | null;
  rdma: { ports: number; active: number; maxRateGbps: number | null; devices: { device: string; port: number; state: string | null; rateGbps: number | null; linkLayer: string | null }[] };
  disks: { name: string; sizeBytes: number | null; model: string | null; rotational: boolean | null; transport: string | null }[];
  os: string | null;
  kernel: string | null;
}

export interface StateDirUsage {
  path: string;
  dbBytes: number;
  freeBytes: number | null;
  totalBytes: number | null;
}

export interface HealthReport {
  light: Light;
  generatedAt: string;
  nodes: NodeHealth[];
  systemPods: { total: number; ready: number; notReady: PodState[] };
  services: (ServiceState & { light: Light })[];
  certificates: { name: string; notAfter: string; daysLeft: number; light: Light }[];
  etcd: { light: Light; members: EtcdMemberState[]; dbSizeBytes: number | null };
  stateDir: StateDirUsage & { light: Light };
  versions: Record<string, string>;
}

const worst = (lights: Light[]): Light => (lights.includes("red") ? "red" : lights.includes("amber") ? "amber" : "green");

/** Summarises a snapshot at time `now`; a missing part (no nodes yet) is amber, not green. */
export function summarizeHealth(s: ClusterSnapshot, stateDir: StateDirUsage, now: Date): HealthReport {
  const factsByHost = new Map(s.facts.map((f) => [f.host, f]));
  const nodes = s.nodes.map((n) => nodeHealth(n.name, n.roles, n.ready, n.kubeletVersion, factsByHost.get(n.name)));
  const notReady = s.systemPods.filter((p) => !p.ready || (p.phase !== "Running" && p.phase !== "Succeeded"));
  const services = s.services.map((sv) => ({ ...sv, light: serviceLight(sv) }));
  const certificates = s.certificates.map((c) => {
    const daysLeft = Math.floor((Date.parse(c.notAfter) - now.getTime()) / 86_400_000);
    const light: Light = daysLeft < CERT_RED_DAYS ? "red" : daysLeft < CERT_AMBER_DAYS ? "amber" : "green";
    return { name: c.name, notAfter: c.notAfter, daysLeft, light };
  });
  const unhealthy = s.etcd.filter((m) => !m.healthy).length;
  const etcdLight: Light = s.etcd.length === 0 ? "amber" : unhealthy === 0 ? "green" : unhealthy * 2 >= s.etcd.length ? "red" : "amber";
  const sizes = s.etcd.map((m) => m.dbSizeBytes).filter((x): x is number => x !== null);
  const usedFraction = stateDir.totalBytes && stateDir.freeBytes !== null ? 1 - stateDir.freeBytes / stateDir.totalBytes : null;
  const stateLight: Light = usedFraction === null ? "amber" : usedFraction > 0.95 ? "red" : usedFraction > 0.85 ? "amber" : "green";
  const podLight: Light = notReady.length === 0 ? "green" : "amber";
  const lights = [
    nodes.length === 0 ? "amber" : worst(nodes.map((n) => n.light)),
    worst(services.map((x) => x.light)),
    worst(certificates.map((c) => c.light)),
    etcdLight,
    stateLight,
    podLight,
  ] as Light[];
  return {
    light: worst(lights),
    generatedAt: now.toISOString(),
    nodes,
    systemPods: { total: s.systemPods.length, ready: s.systemPods.length - notReady.length, notReady },
    services,
    certificates,
    etcd: { light: etcdLight, members: s.etcd, dbSizeBytes: sizes.length ? Math.max(...sizes) : null },
    stateDir: { ...stateDir, light: stateLight },
    versions: s.components,
  };
}

function serviceLight(s: ServiceState): Light {
  if (s.status === "down") return "red";
  if (s.status === "healthy" && s.checks.every((c) => c.ok)) return "green";
  return "amber";
}

/** One node's light: not Ready or unreachable → red; unknown readiness, a host probe problem or an RDMA port down → amber. */
export function nodeHealth(name: string, roles: string[], ready: boolean | null, kubeletVersion: string | null, facts: HostFacts | undefined): NodeHealth {
  const reasons: string[] = [];
  let light: Light = "green";
  const raise = (l: Light, why: string) => {
    reasons.push(why);
    if (l === "red" || light === "green") light = l;
  };
  if (ready === false) raise("red", "node is NotReady");
  if (ready === null) raise("amber", "readiness unknown");
  if (facts && !facts.reachable) raise("red", `host unreachable: ${facts.error ?? "no answer"}`);
  if (!facts) raise("amber", "no host facts recorded");
  const gpuCounts = new Map<string, number>();
  for (const g of facts?.gpus ?? []) gpuCounts.set(g.model, (gpuCounts.get(g.model) ?? 0) + 1);
  const rdma = facts?.rdma ?? [];
  const active = rdma.filter((p) => p.state === "ACTIVE").length;
  if (rdma.length > 0 && active < rdma.length) raise("amber", `${rdma.length - active} of ${rdma.length} RDMA ports not ACTIVE`);
  const rates = rdma.map((p) => p.rateGbps).filter((x): x is number => x !== null);
  const os = facts?.os ? facts.os.prettyName ?? `${facts.os.id} ${facts.os.versionId ?? ""}`.trim() : null;
  return {
    name,
    roles,
    ready,
    kubeletVersion,
    light,
    reasons,
    gpus: [...gpuCounts].map(([model, count]) => ({ model, count })),
    gpuDriver: facts?.gpuDriver?.version ?? null,
    rdma: {
      ports: rdma.length,
      active,
      maxRateGbps: rates.length ? Math.max(...rates) : null,
      devices: rdma.map((p) => ({ device: p.device, port: p.port, state: p.state, rateGbps: p.rateGbps, linkLayer: p.linkLayer })),
    },
    disks: (facts?.disks ?? []).filter((d: DiskFacts) => d.type === "disk").map((d) => ({ name: d.name, sizeBytes: d.sizeBytes, model: d.model, rotational: d.rotational, transport: d.transport })),
    os,
    kernel: facts?.kernel ?? null,
  };
}
