// The Plan: plain, serialisable JSON saying exactly what will be installed where, and why.

/** One inventory host as the planner needs it; `roles` and `wipe` are the operator's overrides. */
export interface PlanInventoryHost {
  name: string;
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
  reasons: string[];
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
  nodes: PlanNode[];
  services: PlanService[];
  bypassedChecks: string[];
  /** Hosts left out (unreachable), with the reason. */
  excluded: { host: string; reason: string }[];
  decisions: string[];
}
