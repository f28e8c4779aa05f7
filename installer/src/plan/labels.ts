// Node labels from facts (GPU, RDMA, disks), as valid Kubernetes label values.
import type { HostFacts } from "../probe/facts.js";
import { diskClass, inUse, ramDevice } from "./disks.js";

export const LABEL_PREFIX = "omstack.io/";

/** A Kubernetes label value: ≤ 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(s: string): string {
  const v = s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 63).replace(/[^A-Za-z0-9]+$/, "");
  return v || "unknown";
}

/** Labels describing the node's hardware; the scheduler and the services' node selectors use them. */
export function factLabels(f: HostFacts): Record<string, string> {
  const l: Record<string, string> = {};
  const gpus = f.gpus.filter((g) => g.vendor !== "other");
  if (gpus.length > 0) {
    const first = gpus[0]!;
    l[`${LABEL_PREFIX}gpu.vendor`] = first.vendor;
    l[`${LABEL_PREFIX}gpu.model`] = labelValue(first.model);
    l[`${LABEL_PREFIX}gpu.count`] = String(gpus.length);
    if (first.memoryMiB !== null) l[`${LABEL_PREFIX}gpu.memory-mib`] = String(Math.min(...gpus.map((g) => g.memoryMiB ?? Infinity)));
    const mig = new Set(gpus.map((g) => g.migMode ?? "unsupported"));
    l[`${LABEL_PREFIX}gpu.mig`] = mig.size === 1 ? [...mig][0]! : "mixed";
    if (new Set(gpus.map((g) => g.model)).size > 1) l[`${LABEL_PREFIX}gpu.models`] = "mixed";
  }
  const active = f.rdma.filter((p) => p.state === "ACTIVE" && p.linkLayer);
  if (active.length > 0) {
    const layers = [...new Set(active.map((p) => p.linkLayer as string))].sort();
    l[`${LABEL_PREFIX}rdma.link-layer`] = layers.length === 1 ? layers[0]! : "mixed";
    const rate = Math.max(...active.map((p) => p.rateGbps ?? 0));
    if (rate > 0) l[`${LABEL_PREFIX}rdma.rate-gbps`] = String(rate);
  }
  for (const cls of ["nvme", "ssd", "hdd"] as const) {
    const n = f.disks.filter((d) => d.type === "disk" && !ramDevice(d) && (d.sizeBytes ?? 1) > 0 && diskClass(d) === cls && inUse(d) === null).length;
    if (n > 0) l[`${LABEL_PREFIX}disk.${cls}`] = String(n);
  }
  return l;
}
