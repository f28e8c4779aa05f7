// buildPlan: inventory + facts + bundle + services (+ preflight outcomes) → Plan. Pure and deterministic.
import { isIP } from "node:net";
import type { Outcome } from "../preflight/preflight.js";
import { evaluateServices, type ServiceResult, type ServiceSpec } from "../preflight/services.js";
import type { HostFacts, RdmaPortFacts } from "../probe/facts.js";
import { layoutDisks, VG_CACHE } from "./disks.js";
import { factLabels, labelValue } from "./labels.js";
import type { Plan, PlanInventoryHost, PlanNode, PlanService } from "./types.js";

/** Everything the planner reads; nothing else (no clock, no environment, no I/O). */
export interface PlanInput {
  inventory: { hosts: PlanInventoryHost[] };
  facts: readonly HostFacts[];
  bundle: { version?: string | null; cudaVersion: string | null; kubernetesVersion: string | null; containerdVersion: string | null };
  services: readonly ServiceSpec[];
  preflight?: readonly Outcome[];
  options?: PlanOptions;
}

/** The operator's cluster choices (omstack.yaml `cluster:` / flags); every field has a default. */
export interface PlanOptions {
  controlPlanes?: 1 | 3;
  virtualIP?: string | null;
  clusterName?: string;
  podSubnet?: string;
  serviceSubnet?: string;
  /** host[:port] of a load balancer or VIP in front of the API servers. */
  controlPlaneEndpoint?: string | null;
}

/** Defaults kubeadm users know (kubeadm's service subnet, the common flannel/Calico pod range). */
export const DEFAULT_NETWORK = { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12", nodeCidrMaskSize: 24, dnsDomain: "cluster.local" } as const;

const CP_TAINT = "node-role.kubernetes.io/control-plane:NoSchedule";
const GPU_TAINT = "nvidia.com/gpu=present:NoSchedule";

/** Computes the whole plan before anything is applied; every decision carries its reason. */
export function buildPlan(input: PlanInput): Plan {
  const inv = new Map(input.inventory.hosts.map((h) => [h.name, h]));
  const decisions: string[] = [];
  const excluded = input.facts.filter((f) => !f.reachable).map((f) => ({ host: f.host, reason: f.error ?? "unreachable" }));
  const facts = input.facts.filter((f) => f.reachable).slice().sort((a, b) => a.host.localeCompare(b.host));
  const isGpu = (f: HostFacts) => f.gpus.some((g) => g.vendor === "nvidia" || g.vendor === "amd");

  // Roles: inventory overrides, else chosen by resources.
  const roles = new Map<string, Set<string>>();
  for (const f of facts) roles.set(f.host, new Set(inv.get(f.host)?.roles ?? []));
  const explicitCp = facts.filter((f) => roles.get(f.host)!.has("control-plane"));
  let cps: HostFacts[];
  if (explicitCp.length > 0) {
    cps = explicitCp;
    decisions.push(`control plane: ${cps.map((f) => f.host).join(", ")} (from the inventory)`);
  } else {
    const want = input.options?.controlPlanes ?? (facts.length >= 5 ? 3 : 1);
    cps = pickControlPlanes(facts, Math.min(want, facts.length), inv, isGpu, decisions);
  }
  const dedicatedCp = facts.length >= 5;
  for (const f of facts) {
    const r = roles.get(f.host)!;
    const explicit = (inv.get(f.host)?.roles ?? []).length > 0;
    if (cps.includes(f)) r.add("control-plane");
    if (!explicit) {
      if (!cps.includes(f) || !dedicatedCp) r.add("worker");
      if (isGpu(f)) r.add("gpu");
    }
  }

  // Services decide features (RDMA shuffle hosts, cache hosts) that the disk layout and values depend on.
  const roleRecord = Object.fromEntries([...roles].map(([h, r]) => [h, [...r]]));
  const svc = evaluateServices(input.services, facts, { bundle: input.bundle, roles: roleRecord });
  const feature = (service: string, id: string) => svc.find((s) => s.name === service)?.features.find((x) => x.id === id);
  const cacheHosts = new Set(feature("bigdata", "bigdata.cache")?.met ? feature("bigdata", "bigdata.cache")!.hosts : []);
  const bigdataOn = svc.find((s) => s.name === "bigdata")?.enabled ?? false;
  const rdmaShuffle = feature("bigdata", "bigdata.rdma-shuffle");

  const cpuHostsExist = facts.some((f) => !isGpu(f));
  const nodes: PlanNode[] = facts.map((f) => {
    const h = inv.get(f.host);
    const r = roles.get(f.host)!;
    const reasons: string[] = [];
    const taints: string[] = [];
    if (r.has("control-plane") && dedicatedCp && !r.has("worker")) {
      taints.push(CP_TAINT);
      reasons.push("control plane is dedicated (5 or more hosts)");
    }
    if (r.has("gpu") && cpuHostsExist && !r.has("control-plane")) {
      taints.push(GPU_TAINT);
      reasons.push("GPU node tainted so CPU-only pods stay on CPU nodes");
    }
    const disks = layoutDisks(f.disks, h?.wipe ?? [], { cache: bigdataOn && cacheHosts.has(f.host), shuffle: bigdataOn });
    if (disks.some((d) => d.use !== null)) r.add("storage");
    for (const w of h?.wipe ?? []) if (!f.disks.some((d) => d.name === w || `/dev/${d.name}` === w)) decisions.push(`${f.host}: wipe: lists ${w}, which the probe did not find; nothing is erased`);
    const labels: Record<string, string> = { ...factLabels(f) };
    for (const [k, v] of Object.entries(h?.labels ?? {})) labels[k.includes("/") ? k : `omstack.io/${k}`] = labelValue(v);
    const rdma = rdmaInterface(f, rdmaShuffle?.hosts.includes(f.host) ?? false);
    if (rdma.reason) reasons.push(rdma.reason);
    const address = nodeAddress(f, h?.address);
    if (address.reason) reasons.push(address.reason);
    const restrictOomScoreAdj = f.system.capSysResource === false;
    if (restrictOomScoreAdj) reasons.push("root lacks CAP_SYS_RESOURCE here (a container host): containerd will not lower oom_score_adj");
    return { host: f.host, roles: order([...r]), labels: sortKeys(labels), taints, disks, rdmaInterface: rdma.name, address: address.ip, restrictOomScoreAdj, reasons };
  });
  const cluster = planCluster(input, nodes, facts, decisions);

  const services: PlanService[] = svc.map((s) => ({ name: s.name, enabled: s.enabled, reason: s.reason, values: serviceValues(s, nodes, input.options?.virtualIP ?? null) }));
  const bypassedChecks = [...new Set((input.preflight ?? []).filter((o) => o.status === "bypassed").map((o) => o.checkId))].sort();
  return {
    formatVersion: 1,
    bundle: { version: input.bundle.version ?? null, cudaVersion: input.bundle.cudaVersion, kubernetesVersion: input.bundle.kubernetesVersion, containerdVersion: input.bundle.containerdVersion },
    cluster,
    nodes,
    services,
    bypassedChecks,
    excluded,
    decisions,
  };
}

/** The node's Kubernetes address: the inventory address when it is an IP the host has, else the host's first global IPv4. */
function nodeAddress(f: HostFacts, inventoryAddress: string | undefined): { ip: string | null; reason: string | null } {
  const own = f.nics.flatMap((n) => n.addresses.map((a) => a.split("/")[0]!));
  if (inventoryAddress && isIP(inventoryAddress) !== 0) {
    if (own.length === 0 || own.includes(inventoryAddress)) return { ip: inventoryAddress, reason: null };
    return { ip: inventoryAddress, reason: `node address ${inventoryAddress} (the inventory address) is not on any of the host's interfaces (${own.join(", ")}): reached through NAT?` };
  }
  const v4 = own.find((a) => isIP(a) === 4 && !a.startsWith("127.") && !a.startsWith("169.254."));
  if (v4) return { ip: v4, reason: `node address ${v4}: the first global IPv4 of the host${inventoryAddress ? ` (the inventory names it ${inventoryAddress})` : ""}` };
  return { ip: null, reason: "no IPv4 address found for the node: set an IP as its inventory address" };
}

/** kubeadm's cluster settings from the operator's options, the bundle and what the nodes are. */
function planCluster(input: PlanInput, nodes: PlanNode[], facts: HostFacts[], decisions: string[]): Plan["cluster"] {
  const o = input.options ?? {};
  const firstCp = nodes.find((n) => n.roles.includes("control-plane")) ?? null;
  const cpCount = nodes.filter((n) => n.roles.includes("control-plane")).length;
  let endpoint: string | null = null;
  if (o.controlPlaneEndpoint) {
    endpoint = /:\d+$/.test(o.controlPlaneEndpoint) && isIP(o.controlPlaneEndpoint) !== 6 ? o.controlPlaneEndpoint : `${o.controlPlaneEndpoint}:6443`;
    decisions.push(`API endpoint ${endpoint} (from the config)`);
  } else if (firstCp?.address) {
    endpoint = `${firstCp.address.includes(":") ? `[${firstCp.address}]` : firstCp.address}:6443`;
    decisions.push(
      `API endpoint ${endpoint} (the first control plane, ${firstCp.host})` +
        (cpCount > 1 ? "; with several control planes this address is a single point of failure: set cluster.controlPlaneEndpoint to a load balancer or VIP" : ""),
    );
  }
  const v1 = facts.filter((f) => f.system.cgroupVersion === 1).map((f) => f.host);
  if (v1.length > 0) decisions.push(`cgroup v1 on ${v1.join(", ")}: the kubelet is told to accept it (failCgroupV1: false); Kubernetes supports v1 in maintenance mode only`);
  const podSubnet = o.podSubnet ?? DEFAULT_NETWORK.podSubnet;
  const serviceSubnet = o.serviceSubnet ?? DEFAULT_NETWORK.serviceSubnet;
  return {
    name: o.clusterName ?? "omstack",
    kubernetesVersion: input.bundle.kubernetesVersion,
    controlPlaneEndpoint: endpoint,
    podSubnet,
    serviceSubnet,
    nodeCidrMaskSize: DEFAULT_NETWORK.nodeCidrMaskSize,
    allowCgroupV1: v1.length > 0,
    kubeProxyMode: "iptables",
    dnsDomain: DEFAULT_NETWORK.dnsDomain,
  };
}

/** Control planes by resources, never GPU nodes while CPU nodes exist, spread across racks when labelled. */
function pickControlPlanes(facts: HostFacts[], n: number, inv: Map<string, PlanInventoryHost>, isGpu: (f: HostFacts) => boolean, decisions: string[]): HostFacts[] {
  const cpuOnly = facts.filter((f) => !isGpu(f));
  const pool = cpuOnly.length >= n ? cpuOnly : cpuOnly.length > 0 ? [...cpuOnly, ...facts.filter(isGpu)] : facts;
  const score = (f: HostFacts) => (f.cpu?.threads ?? f.cpu?.cores ?? 0) * 4 * 2 ** 30 + (f.memory?.totalBytes ?? 0);
  const ranked = pool.slice().sort((a, b) => score(b) - score(a) || a.host.localeCompare(b.host));
  const rack = (f: HostFacts) => inv.get(f.host)?.labels?.rack ?? inv.get(f.host)?.labels?.["topology.kubernetes.io/zone"] ?? null;
  const chosen: HostFacts[] = [];
  const usedRacks = new Set<string | null>();
  // first pass: one per rack, best first; second pass: fill by resources
  for (const f of ranked) if (chosen.length < n && rack(f) !== null && !usedRacks.has(rack(f))) (chosen.push(f), usedRacks.add(rack(f)));
  for (const f of ranked) if (chosen.length < n && !chosen.includes(f)) chosen.push(f);
  const why = [
    `${n} control plane${n === 1 ? "" : "s"} for ${facts.length} host${facts.length === 1 ? "" : "s"}`,
    cpuOnly.length > 0 && cpuOnly.length < facts.length ? (cpuOnly.length >= n ? "GPU nodes avoided" : "not enough CPU-only nodes, some GPU nodes used") : null,
    usedRacks.size > 1 ? `spread over racks ${[...usedRacks].sort().join(", ")}` : null,
    "largest CPU and memory first",
  ].filter(Boolean);
  decisions.push(`control plane: ${chosen.map((f) => f.host).join(", ")} (${why.join("; ")})`);
  return chosen;
}

/** The interface that carries shuffle and cache traffic: IPoIB on InfiniBand, the RoCE netdev on Ethernet. */
function rdmaInterface(f: HostFacts, used: boolean): { name: string | null; reason: string | null } {
  if (!used) return { name: null, reason: null };
  const active = f.rdma.filter((p) => p.state === "ACTIVE" && p.linkLayer);
  const netdev = (p: RdmaPortFacts) => p.netdev ?? f.nics.find((n) => n.rdmaDevice === p.device)?.name ?? null;
  const best = active
    .filter((p) => netdev(p) !== null)
    .sort((a, b) => (b.rateGbps ?? 0) - (a.rateGbps ?? 0) || (a.linkLayer === "InfiniBand" ? -1 : 1) - (b.linkLayer === "InfiniBand" ? -1 : 1) || a.device.localeCompare(b.device))[0];
  if (!best) return { name: null, reason: "RDMA port active but no network interface found for it; shuffle uses TCP on this node" };
  const name = netdev(best)!;
  return { name, reason: `RDMA traffic on ${name} (${best.linkLayer === "InfiniBand" ? "IPoIB" : "RoCE"}, ${best.device} port ${best.port}${best.rateGbps ? `, ${best.rateGbps} Gb/s` : ""})` };
}

function serviceValues(s: ServiceResult, nodes: PlanNode[], vip: string | null): Record<string, unknown> {
  const f = (id: string) => s.features.find((x) => x.id === id);
  const hostsOf = (id: string) => (f(id)?.met ? f(id)!.hosts : []);
  if (!s.enabled) return {};
  switch (s.name) {
    case "ai":
      return {
        gpuSharing: { enabled: hostsOf("ai.gpu-sharing").length > 0, nodes: hostsOf("ai.gpu-sharing"), unit: "milli-GPU by compute and memory" },
        mig: { enabled: hostsOf("ai.mig").length > 0, nodes: hostsOf("ai.mig") },
      };
    case "bigdata": {
      const shuffleHosts = hostsOf("bigdata.rdma-shuffle");
      const tiers = nodes
        .map((n) => ({ host: n.host, disks: n.disks.filter((d) => d.use === VG_CACHE) }))
        .filter((t) => t.disks.length > 0)
        .map((t) => ({ host: t.host, volumeGroup: VG_CACHE, mediumType: t.disks.some((d) => d.class === "nvme") ? "NVME" : "SSD", sizeBytes: t.disks.reduce((a, d) => a + (d.sizeBytes ?? 0), 0) }));
      return {
        rdmaShuffle: { enabled: shuffleHosts.length > 0, nodes: nodes.filter((n) => shuffleHosts.includes(n.host)).map((n) => ({ host: n.host, interface: n.rdmaInterface })) },
        cache: { enabled: tiers.length > 0, tiers },
      };
    }
    case "intranet-proxy": {
      const ha = hostsOf("intranet-proxy.ha");
      return { virtualIP: vip, replicas: ha.length >= 2 ? 2 : 1, nodes: (ha.length >= 2 ? ha : s.requires[0]?.hosts ?? []).slice(0, 2) };
    }
    case "predict":
      return { gpu: { enabled: hostsOf("predict.gpu").length > 0, nodes: hostsOf("predict.gpu") } };
    default:
      return {};
  }
}

const ROLE_ORDER = ["control-plane", "worker", "gpu", "storage"];
const order = (r: string[]) => r.sort((a, b) => (ROLE_ORDER.indexOf(a) + 1 || 99) - (ROLE_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
const sortKeys = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
