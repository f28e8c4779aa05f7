// Pure: is a service's namespace healthy? Reads `kubectl get pods -o json` and says which pods are not ready and why.
// Pods being deleted (an upgrade's old ReplicaSet) and finished Job pods do not count against a release.
import { OmstackError } from "../../errors.js";

/** One pod, reduced to its health. */
export interface ServicePod {
  name: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  /** Why a container waits or last ended (ErrImageNeverPull, CrashLoopBackOff …). */
  reasons: string[];
}

/** Reads a pod list; E_KUBE_OUTPUT on anything else. */
export function parseServicePods(json: string, host: string): ServicePod[] {
  let doc: { items?: unknown };
  try {
    doc = JSON.parse(json) as { items?: unknown };
  } catch (e) {
    throw new OmstackError("E_KUBE_OUTPUT", `${host}: kubectl printed something that is not JSON: ${(e as Error).message}`, { host, remedy: "run the kubectl command on the host and check its output" });
  }
  if (!Array.isArray(doc.items)) throw new OmstackError("E_KUBE_OUTPUT", `${host}: kubectl did not print a pod list`, { host, remedy: "run the kubectl command on the host and check its output" });
  return doc.items.map((raw) => {
    const p = raw as {
      metadata?: { name?: string; deletionTimestamp?: string };
      status?: {
        phase?: string;
        conditions?: { type: string; status: string }[];
        containerStatuses?: { state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[];
        initContainerStatuses?: { state?: { waiting?: { reason?: string } } }[];
      };
    };
    const phase = String(p.status?.phase ?? "Unknown");
    const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])] as { state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[];
    return {
      name: String(p.metadata?.name ?? ""),
      phase,
      ready: phase === "Succeeded" || (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false),
      terminating: typeof p.metadata?.deletionTimestamp === "string",
      reasons: statuses.map((s) => s.state?.waiting?.reason ?? (phase !== "Succeeded" ? s.state?.terminated?.reason : undefined)).filter((r): r is string => typeof r === "string"),
    };
  });
}

/** One phrase per pod that keeps the namespace from being healthy; empty when it is. */
export function unreadyPods(namespace: string, pods: readonly ServicePod[]): string[] {
  return pods
    .filter((p) => !p.terminating && !p.ready)
    .map((p) => `pod ${namespace}/${p.name} is ${p.phase}${p.reasons.length ? ` (${p.reasons.join(", ")})` : ""}`);
}

/** What to do about what the wait saw last. */
export function remedyForPods(problems: readonly string[], namespace: string): string {
  if (problems.some((p) => /ErrImageNeverPull|ImagePullBackOff|ErrImagePull/.test(p))) {
    return `an image is not in containerd on the node the pod landed on, and nothing is pulled offline: the bundle must carry it (\`ctr -n k8s.io images ls\` on the node shows what is there); kubectl -n ${namespace} describe pod … names it`;
  }
  return `kubectl --kubeconfig STATE_DIR/kubeconfig -n ${namespace} describe pod … and logs …; fix the cause, then run the install again`;
}
