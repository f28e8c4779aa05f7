// k8s.binaries: kubeadm, kubelet and kubectl from the bundle into /usr/local/bin on every node, sha256-checked.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import type { BundleParts } from "../bundleParts.js";
import { hostPushFiles } from "../host/push-files.js";
import type { Step } from "../types.js";

/** The Kubernetes binaries every node needs, by bundle path. */
export const KUBE_BINARIES = ["kubeadm", "kubelet", "kubectl"] as const;

/** Where the binaries go (the kubelet unit and kubeadm's drop-in name /usr/local/bin/kubelet). */
export const KUBE_BIN_DIR = "/usr/local/bin";

/** Builds the step; a bundle without one of the binaries is refused before anything runs. */
export function k8sBinaries(parts: BundleParts): Step<Plan> {
  const files = KUBE_BINARIES.map((name) => {
    const p = parts.part(`bin/${name}`);
    if (!p) throw new OmstackError("E_BUNDLE_PART_MISSING", `bundle ${parts.version} has no bin/${name}`, { remedy: "install from a bundle built with the Kubernetes binaries (omstack bundle inspect lists its files)" });
    return { source: p.source, dest: `${KUBE_BIN_DIR}/${name}`, sha256: p.sha256, mode: 0o755 };
  });
  return hostPushFiles({ id: "k8s.binaries", title: "Install kubeadm, kubelet and kubectl from the bundle", files });
}
