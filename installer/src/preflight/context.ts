// The names preflight expressions (checks and service requirements) see besides the host's facts.
import type { HostFacts } from "../probe/facts.js";
import { T, type HostFunction, type Ty } from "./expressions/index.js";
import { containerdSupports, kubernetesRow, maxCudaForDriver, minDriverForCuda, minimumsFor, ofedSupportsOs } from "./matrices/index.js";

/** The versions a bundle was built with; preflight checks the hosts against them. */
export interface BundleVersions {
  cudaVersion: string | null;
  kubernetesVersion: string | null;
  containerdVersion: string | null;
  /** Bytes the bundle takes once extracted; /var needs twice this. */
  extractedBytes?: number | null;
}

/** Facts about the whole cluster that single-host checks compare against (computed once, O(hosts)). */
export interface ClusterSummary {
  size: number;
  hostnameCounts: Record<string, number>;
  rdmaHosts: number;
  rdmaLinkLayerHosts: Record<string, number>;
  /** Hosts per set of active link layers ("Ethernet+InfiniBand" → 2): the unit the link-layer check compares. */
  rdmaLinkLayerSets: Record<string, number>;
  rdmaLinkLayerSummary: string;
  rdmaMtus: number[];
  migModesByModel: Record<string, string[]>;
}

/** Static types of the extra names, for compile-time checking of check and service expressions. */
export const CONTEXT_TYPES: Readonly<Record<string, Ty>> = {
  roles: T.listOf(T.STRING),
  rdmaServices: T.BOOL,
  resuming: T.BOOL,
  min: T.obj("role minimums", { cpuCores: T.NUMBER, memoryBytes: T.NUMBER, varFreeBytes: T.NUMBER }),
  bundle: T.obj("bundle", { cudaVersion: T.STRING, kubernetesVersion: T.STRING, containerdVersion: T.STRING, extractedBytes: T.NUMBER }),
  cluster: T.obj("cluster", {
    size: T.NUMBER,
    hostnameCounts: T.ANY,
    rdmaHosts: T.NUMBER,
    rdmaLinkLayerHosts: T.ANY,
    rdmaLinkLayerSets: T.ANY,
    rdmaLinkLayerSummary: T.STRING,
    rdmaMtus: T.listOf(T.NUMBER),
    migModesByModel: T.ANY,
  }),
};

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** Matrix lookups callable from expressions (docs/expressions.md lists them). */
export const MATRIX_FUNCTIONS: Readonly<Record<string, HostFunction>> = {
  cudaMinDriver: {
    params: ["string"],
    returns: "string",
    doc: "lowest Linux driver NVIDIA lists for a CUDA release, e.g. cudaMinDriver(\"12.8\") = \"570.26\"",
    call: (cuda) => (str(cuda) ? minDriverForCuda(cuda as string)?.minLinuxDriver ?? null : null),
  },
  maxCudaForDriver: {
    params: ["string"],
    returns: "string",
    doc: "newest CUDA release a driver supports, e.g. maxCudaForDriver(\"535.54.03\") = \"12.2\"",
    call: (driver) => (str(driver) ? maxCudaForDriver(driver as string)?.cuda ?? null : null),
  },
  k8sMinKernel: {
    params: ["string"],
    returns: "string",
    doc: "oldest kernel kubeadm accepts for a Kubernetes version",
    call: (k8s) => (str(k8s) ? kubernetesRow(k8s as string)?.minKernel ?? "3.10" : "3.10"),
  },
  containerdSupports: {
    params: ["string", "string"],
    returns: "bool",
    doc: "whether containerd's release notes recommend this containerd for this Kubernetes minor; null if unknown",
    call: (k8s, c) => (str(k8s) && str(c) ? containerdSupports(k8s as string, c as string) : null),
  },
  containerdFor: {
    params: ["string"],
    returns: "string",
    doc: "the containerd releases recommended for a Kubernetes minor, as text",
    call: (k8s) => (str(k8s) ? kubernetesRow(k8s as string)?.containerd.map((v) => v + "+").join(" or ") ?? null : null),
  },
  ofedSupportsOs: {
    params: ["string", "string", "string"],
    returns: "bool",
    doc: "whether NVIDIA lists the OS for this MLNX_OFED release line; null if the line is unknown",
    call: (v, id, ver) => (str(v) && str(id) ? ofedSupportsOs(v as string, id as string, str(ver)) : null),
  },
};

/** Roles to assume when the inventory does not say: every host is a worker, GPU hosts also "gpu". */
export function defaultRoles(f: HostFacts): string[] {
  return f.gpus.some((g) => g.vendor === "nvidia" || g.vendor === "amd") ? ["worker", "gpu"] : ["worker"];
}

/** One pass over all hosts: duplicate names, RDMA link layers and MTUs, MIG modes per GPU model. */
export function summarizeCluster(facts: readonly HostFacts[]): ClusterSummary {
  const hostnameCounts: Record<string, number> = Object.create(null);
  const rdmaLinkLayerHosts: Record<string, number> = Object.create(null);
  const sets: Record<string, number> = Object.create(null);
  const mtus = new Set<number>();
  const mig: Record<string, Set<string>> = Object.create(null);
  let rdmaHosts = 0;
  for (const f of facts) {
    if (!f.reachable) continue;
    const name = (((f as HostFacts & { hostname?: string | null }).hostname ?? f.host) || f.host).toLowerCase();
    hostnameCounts[name] = (hostnameCounts[name] ?? 0) + 1;
    const layers = new Set(f.rdma.filter((p) => p.state === "ACTIVE" && p.linkLayer).map((p) => p.linkLayer as string));
    if (layers.size > 0) {
      rdmaHosts++;
      const sig = [...layers].sort().join("+");
      sets[sig] = (sets[sig] ?? 0) + 1;
    }
    for (const l of layers) rdmaLinkLayerHosts[l] = (rdmaLinkLayerHosts[l] ?? 0) + 1;
    for (const n of f.nics) if (n.rdmaDevice && n.mtu !== null) mtus.add(n.mtu);
    for (const g of f.gpus) if (g.vendor === "nvidia") (mig[g.model] ??= new Set()).add(g.migMode ?? "unsupported");
  }
  const summary = Object.entries(sets)
    .map(([l, n]) => `${n} host${n === 1 ? "" : "s"} ${l}`)
    .join(", ");
  return {
    size: facts.length,
    hostnameCounts: { ...hostnameCounts },
    rdmaHosts,
    rdmaLinkLayerHosts: { ...rdmaLinkLayerHosts },
    rdmaLinkLayerSets: { ...sets },
    rdmaLinkLayerSummary: summary || "no active RDMA ports",
    rdmaMtus: [...mtus].sort((a, b) => a - b),
    migModesByModel: Object.fromEntries(Object.entries(mig).map(([m, s]) => [m, [...s].sort()])),
  };
}

/** Everything the expressions of one host see besides its facts. */
export function hostVars(roles: string[], bundle: BundleVersions, cluster: ClusterSummary, rdmaServices: boolean, resuming = false): Record<string, unknown> {
  return { roles, min: minimumsFor(roles), bundle: { extractedBytes: null, ...bundle }, cluster, rdmaServices, resuming };
}
