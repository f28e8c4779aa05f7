// The host-preparation steps in the order an install runs them (more steps join this list as they are written).
import type { Plan } from "../plan/types.js";
import { hostContainerdConfig, type ContainerdConfigOptions } from "./host/containerd-config.js";
import { hostKernelModules } from "./host/kernel-modules.js";
import { hostKubeletUnit } from "./host/kubelet-unit.js";
import { hostPushFiles, type PushFile } from "./host/push-files.js";
import { hostSwapOff } from "./host/swap-off.js";
import { hostSysctls } from "./host/sysctls.js";
import type { Step } from "./types.js";
import { servicesReleases } from "./services/releases.js";
import type { HelmClient } from "./services/ports.js";
import { devicesGpuCheck } from "./devices/gpu-check.js";
import { hostFirewallPorts } from "./host/firewall-ports.js";
import { hostPackages } from "./host/packages.js";
import { devicesRdmaCheck } from "./devices/rdma-check.js";
import { storageLvmVolumeGroups } from "./storage/lvm-volume-groups.js";
import { OmstackError } from "../errors.js";
import type { JournalHandoffSource } from "./admin/ports.js";
import { adminApp } from "./admin/app.js";
import { adminJournalHandoff } from "./admin/journal-handoff.js";
import { adminService, type AdminUserSource } from "./admin/service.js";
import { pauseImage, type BundleParts } from "./bundleParts.js";
import { k8sBinaries } from "./k8s/binaries.js";
import { k8sCni } from "./k8s/cni.js";
import { k8sImages } from "./k8s/images.js";
import { k8sInit } from "./k8s/init.js";
import { k8sJoinControlPlanes, k8sJoinWorkers } from "./k8s/join.js";
import { k8sKubeconfig, type LocalFiles } from "./k8s/kubeconfig.js";
import { k8sNodeLabels } from "./k8s/labels.js";
import { k8sReady } from "./k8s/ready.js";

/** Settings for host preparation; everything has a default except the files to push. */
export interface HostPrepOptions {
  sysctls?: Record<string, string | number>;
  modules?: readonly string[];
  files?: readonly PushFile[];
  /** containerd's CRI settings (pause image, restrict_oom_score_adj, CNI and registry directories). */
  containerd?: ContainerdConfigOptions;
  /** Where the bundle installs the kubelet binary (default /usr/local/bin/kubelet). */
  kubeletPath?: string;
}

/** What the whole install needs besides the plan: the bundle's parts and where the operator's kubeconfig goes. */
export interface InstallStepOptions {
  parts: BundleParts;
  kubeconfigPath: string;
  localFiles: LocalFiles;
  /** Bounds the wait for a healthy cluster (default 10 minutes). */
  readyTimeoutMs?: number;
  /** The admin service's first user (the password is asked only when the user does not exist yet). */
  adminUser: AdminUserSource;
  /** The installer's journal, handed over to the admin service's database. */
  journal: JournalHandoffSource;
  /** The bundle's helm, run on this machine with the saved kubeconfig. */
  helm: HelmClient;
}

/**
 * Every step of an install, in order: host preparation with the Kubernetes binaries before the kubelet unit, the
 * planned LVM volume groups and the GPU/RDMA checks, the images after containerd restarts, then the cluster (init,
 * joins, pod network, labels, health), the kubeconfig, and the admin service with the journal handed over.
 */
export function installSteps(o: InstallStepOptions): Step<Plan>[] {
  const pause = pauseImage(o.parts);
  const prep = hostPreparationSteps({ containerd: pause ? { sandboxImage: pause } : {} });
  const at = prep.findIndex((s) => s.id === "host.containerd-config");
  return [
    ...prep.slice(0, at),
    hostPackages({ parts: o.parts }),
    hostFirewallPorts(),
    k8sBinaries(o.parts),
    ...prep.slice(at),
    storageLvmVolumeGroups(),
    devicesGpuCheck(),
    devicesRdmaCheck(),
    k8sImages(o.parts),
    k8sInit(),
    k8sJoinControlPlanes(),
    k8sJoinWorkers(),
    k8sCni(),
    k8sNodeLabels(),
    k8sReady(o.readyTimeoutMs !== undefined ? { timeoutMs: o.readyTimeoutMs } : {}),
    k8sKubeconfig(o.kubeconfigPath, o.localFiles),
    servicesReleases({ helm: o.helm, parts: o.parts }),
    ...adminSteps(o),
  ];
}

/** The admin service on the first control plane, from the bundle's app and Node runtime; the journal handoff last. */
function adminSteps(o: InstallStepOptions): Step<Plan>[] {
  const app = o.parts.part("app/omstack-app.tar");
  const node = o.parts.part("bin/node");
  if (!app || !node) {
    throw new OmstackError("E_BUNDLE_PART_MISSING", `bundle ${o.parts.version} has no ${!app ? "app/omstack-app.tar" : "bin/node"}: the admin service cannot be installed`, {
      remedy: "install from a bundle built with the omstack app and its Node runtime (omstack bundle inspect lists its files)",
    });
  }
  return [
    adminApp({ app: { path: app.source, sha256: app.sha256 }, node: { path: node.source, sha256: node.sha256 } }),
    adminService({ user: o.adminUser }),
    adminJournalHandoff({ source: o.journal }),
  ];
}

/** Swap off, kernel modules (before sysctls: br_netfilter creates net.bridge.*), sysctls, file pushes, then containerd's configuration and the kubelet unit. */
export function hostPreparationSteps(o: HostPrepOptions = {}): Step<Plan>[] {
  const steps: Step<Plan>[] = [hostSwapOff(), hostKernelModules(o.modules ? { modules: o.modules } : {}), hostSysctls(o.sysctls ? { values: o.sysctls } : {})];
  if (o.files && o.files.length > 0) steps.push(hostPushFiles({ files: o.files }));
  steps.push(hostContainerdConfig(o.containerd ?? {}), hostKubeletUnit(o.kubeletPath ? { kubeletPath: o.kubeletPath } : {}));
  return steps;
}
