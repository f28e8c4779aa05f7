// Minimum CPU, memory and disk per node role: kubeadm's floor plus what OMStack's own services need.
import { KUBEADM_INSTALL, OMSTACK_POLICY, type Source } from "./sources.js";

/** Node roles the plan assigns. */
export type Role = "control-plane" | "worker" | "gpu" | "storage";

/** Minimums for one role; `kubeadmFloor` is the upstream minimum below which kubeadm itself refuses or warns. */
export interface RoleMinimum {
  role: Role;
  cpuCores: number;
  memoryBytes: number;
  varFreeBytes: number;
  kubeadmFloor: { cpuCores: number; memoryBytes: number; source: Source } | null;
  source: Source;
}

const GiB = 2 ** 30;

export const ROLE_MINIMUMS: readonly RoleMinimum[] = [
  { role: "control-plane", cpuCores: 4, memoryBytes: 8 * GiB, varFreeBytes: 50 * GiB, kubeadmFloor: { cpuCores: 2, memoryBytes: 2 * GiB, source: KUBEADM_INSTALL }, source: OMSTACK_POLICY },
  { role: "worker", cpuCores: 4, memoryBytes: 16 * GiB, varFreeBytes: 100 * GiB, kubeadmFloor: { cpuCores: 1, memoryBytes: 2 * GiB, source: KUBEADM_INSTALL }, source: OMSTACK_POLICY },
  { role: "gpu", cpuCores: 8, memoryBytes: 64 * GiB, varFreeBytes: 200 * GiB, kubeadmFloor: null, source: OMSTACK_POLICY },
  { role: "storage", cpuCores: 4, memoryBytes: 16 * GiB, varFreeBytes: 100 * GiB, kubeadmFloor: null, source: OMSTACK_POLICY },
];

/** The strictest minimum over a host's roles (a GPU worker must meet both worker and gpu). */
export function minimumsFor(roles: readonly string[]): { cpuCores: number; memoryBytes: number; varFreeBytes: number } {
  const rows = ROLE_MINIMUMS.filter((r) => roles.includes(r.role));
  const use = rows.length > 0 ? rows : ROLE_MINIMUMS.filter((r) => r.role === "worker");
  return {
    cpuCores: Math.max(...use.map((r) => r.cpuCores)),
    memoryBytes: Math.max(...use.map((r) => r.memoryBytes)),
    varFreeBytes: Math.max(...use.map((r) => r.varFreeBytes)),
  };
}
