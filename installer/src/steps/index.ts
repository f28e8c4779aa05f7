// The host-preparation steps in the order an install runs them (more steps join this list as they are written).
import type { Plan } from "../plan/types.js";
import { hostContainerdConfig, type ContainerdConfigOptions } from "./host/containerd-config.js";
import { hostKernelModules } from "./host/kernel-modules.js";
import { hostKubeletUnit } from "./host/kubelet-unit.js";
import { hostPushFiles, type PushFile } from "./host/push-files.js";
import { hostSwapOff } from "./host/swap-off.js";
import { hostSysctls } from "./host/sysctls.js";
import type { Step } from "./types.js";

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

/** Swap off, kernel modules (before sysctls: br_netfilter creates net.bridge.*), sysctls, file pushes, then containerd's configuration and the kubelet unit. */
export function hostPreparationSteps(o: HostPrepOptions = {}): Step<Plan>[] {
  const steps: Step<Plan>[] = [hostSwapOff(), hostKernelModules(o.modules ? { modules: o.modules } : {}), hostSysctls(o.sysctls ? { values: o.sysctls } : {})];
  if (o.files && o.files.length > 0) steps.push(hostPushFiles({ files: o.files }));
  steps.push(hostContainerdConfig(o.containerd ?? {}), hostKubeletUnit(o.kubeletPath ? { kubeletPath: o.kubeletPath } : {}));
  return steps;
}
