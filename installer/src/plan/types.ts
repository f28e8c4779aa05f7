// The Plan: plain, serialisable JSON saying exactly what will be installed where, and why.

/** One inventory host as the planner needs it; `roles` and `wipe` are the operator's overrides. */
export interface PlanInventoryHost {
  name: string;
  /** How the installer reaches the host (IP or DNS name); an IP becomes the node's Kubernetes address. */
  address?: string;
  roles?: string[];
  /** Free-form labels; `rack` (or `topology.kubernetes.io/zone`) spreads control planes. */
  labels?: Record<string, string>;
  /** Disks (by name, e.g. "nvme1n1") the operator allows the installer to erase. */
  wipe?: string[];
}

/** What the planner decided for one disk. */
export interface PlanDisk {
  name: string;
  sizeBytes: number | null;
  class: "nvme" | "ssd" | "hdd" | "unknown";
  /** Volume group or purpose, or null when the disk is left alone. */
  use: string | null;
  /** True when the disk holds data today and will be erased (only ever for disks listed under `wipe:`). */
  wipe: boolean;
  reason: string;
}

export interface PlanNode {
  host: string;
  roles: string[];
  labels: Record<string, string>;
  taints: string[];
  disks: PlanDisk[];
  rdmaInterface: string | null;
  /** The node's Kubernetes address (kubelet --node-ip, the API server's advertise address); null when none was found. */
  address: string | null;
  /** containerd must not lower oom_score_adj where root lacks CAP_SYS_RESOURCE (some container hosts). */
  restrictOomScoreAdj: boolean;
  reasons: string[];
}

/** Cluster-wide Kubernetes settings: what kubeadm's configuration is generated from. */
export interface PlanCluster {
  name: string;
  kubernetesVersion: string | null;
  /** host:port every node reaches the API server at (the operator's endpoint, else the first control plane). */
  controlPlaneEndpoint: string | null;
  podSubnet: string;
  serviceSubnet: string;
  /** Size of each node's pod range (podCIDR) carved from podSubnet. */
  nodeCidrMaskSize: number;
  /** The kubelet's failCgroupV1 is set false when a node runs cgroup v1 (Kubernetes ≥ 1.35 refuses v1 otherwise). */
  allowCgroupV1: boolean;
  kubeProxyMode: "iptables" | "ipvs";
  dnsDomain: string;
}

export interface PlanService {
  name: string;
  enabled: boolean;
  reason: string;
  values: Record<string, unknown>;
}

export interface Plan {
  formatVersion: 1;
  bundle: { version: string | null; cudaVersion: string | null; kubernetesVersion: string | null; containerdVersion: string | null };
  cluster: PlanCluster;
  nodes: PlanNode[];
  services: PlanService[];
  bypassedChecks: string[];
  /** Hosts left out (unreachable), with the reason. */
  excluded: { host: string; reason: string }[];
  decisions: string[];
}
