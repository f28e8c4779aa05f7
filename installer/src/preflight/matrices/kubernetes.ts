// Kubernetes ↔ containerd and kernel: which runtime versions the containerd project recommends per Kubernetes minor.
import { compareVersions, parseVersion } from "../expressions/index.js";
import { CONTAINERD_RELEASES, CONTAINERD_RELEASES_SITE, KUBEADM_SYSTEM_VALIDATORS, type Source } from "./sources.js";

/** One Kubernetes minor and the containerd releases (lowest patch per minor line) recommended for it. */
export interface KubernetesRow {
  kubernetes: string;
  containerd: string[];
  minKernel: string;
  source: Source;
  kernelSource: Source;
}

const K = (kubernetes: string, containerd: string[], source: Source): KubernetesRow => ({ kubernetes, containerd, minKernel: "3.10", source, kernelSource: KUBEADM_SYSTEM_VALIDATORS });

export const KUBERNETES_TABLE: readonly KubernetesRow[] = [
  K("1.30", ["2.1.0", "2.0.0", "1.7.13", "1.6.28"], CONTAINERD_RELEASES),
  K("1.31", ["2.1.0", "2.0.0", "1.7.20", "1.6.34"], CONTAINERD_RELEASES),
  K("1.32", ["2.1.0", "2.0.1", "1.7.24", "1.6.36"], CONTAINERD_RELEASES),
  K("1.33", ["2.1.0", "2.0.4", "1.7.24", "1.6.36"], CONTAINERD_RELEASES),
  K("1.34", ["2.1.3", "2.0.6", "1.7.28", "1.6.36"], CONTAINERD_RELEASES_SITE),
  K("1.35", ["2.2.0", "2.1.5", "1.7.28"], CONTAINERD_RELEASES_SITE),
];

/** The row for a Kubernetes version's minor ("v1.33.4" → 1.33), or null when the table does not know it. */
export function kubernetesRow(k8s: string): KubernetesRow | null {
  const v = parseVersion(k8s);
  if (!v) return null;
  return KUBERNETES_TABLE.find((r) => r.kubernetes === `${v.parts[0]}.${v.parts[1] ?? 0}`) ?? null;
}

/** True / false when the table knows the Kubernetes minor; null when it does not. */
export function containerdSupports(k8s: string, containerd: string): boolean | null {
  const r = kubernetesRow(k8s);
  const c = parseVersion(containerd);
  if (!r || !c) return null;
  return r.containerd.some((min) => {
    const m = parseVersion(min)!;
    return m.parts[0] === c.parts[0] && m.parts[1] === c.parts[1] && compareVersions(c, m) >= 0;
  });
}
