// What the Kubernetes steps share: where kubeadm puts things, how to call kubectl on a control plane, and pure readers
// of `kubectl get nodes -o json`.
import { OmstackError } from "../../errors.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { shq } from "../shell.js";

/** kubeadm writes the cluster-admin kubeconfig here on every control-plane node. */
export const ADMIN_CONF = "/etc/kubernetes/admin.conf";
/** The kubelet's kubeconfig: present once a node has joined (or been initialised). */
export const KUBELET_CONF = "/etc/kubernetes/kubelet.conf";
/** containerd's CRI socket, named explicitly so kubeadm never guesses another runtime. */
export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";
/** Where omstack keeps the kubeadm configurations it generated (0600: a join file holds a token while it exists). */
export const KUBEADM_DIR = "/etc/omstack/kubeadm";
/** The API server's port on every control plane. */
export const API_PORT = 6443;

/** kubectl as cluster admin on a control-plane node, with the arguments quoted. */
export function kubectl(...args: string[]): string {
  return `kubectl --kubeconfig ${ADMIN_CONF} ${args.map((a) => (/^[A-Za-z0-9._/=:,@-]+$/.test(a) ? a : shq(a))).join(" ")}`;
}

/** The plan's control-plane nodes, the first (where `kubeadm init` runs) first. */
export function controlPlanes(plan: Plan): PlanNode[] {
  return plan.nodes.filter((n) => n.roles.includes("control-plane"));
}

/** The node kubeadm init runs on and cluster steps run on; an install without one is a planning bug. */
export function firstControlPlane(plan: Plan): PlanNode {
  const cp = controlPlanes(plan)[0];
  if (!cp) throw new OmstackError("E_STEP_CONFIG", "the plan has no control-plane node", { remedy: "give one host the control-plane role (omstack plan shows the roles)" });
  return cp;
}

/** A plan node's address, required by every Kubernetes step. */
export function nodeAddress(node: PlanNode): string {
  if (!node.address) {
    throw new OmstackError("E_STEP_CONFIG", `${node.host}: the plan has no address for this node`, { host: node.host, remedy: "give the host an IP address as its inventory address (omstack plan shows each node's address)" });
  }
  return node.address;
}

/** One node as `kubectl get nodes -o json` shows it, reduced to what the steps compare. */
export interface KubeNode {
  name: string;
  podCIDR: string | null;
  internalIP: string | null;
  ready: boolean;
  labels: Record<string, string>;
  taints: string[];
}

/** A taint as the plan writes it: key[=value]:Effect. */
export function taintString(t: { key: string; value?: string; effect: string }): string {
  return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}

/** Reads `kubectl get nodes -o json` (a List) or one node; throws E_KUBE_OUTPUT on anything else. */
export function parseNodes(json: string, host: string): KubeNode[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new OmstackError("E_KUBE_OUTPUT", `${host}: kubectl printed something that is not JSON: ${(e as Error).message}`, { host, remedy: "run the kubectl command on the host and check its output; a wrapper script or an old kubectl may be on PATH" });
  }
  const d = doc as { kind?: string; items?: unknown[] };
  const items = d.kind === "Node" ? [doc] : Array.isArray(d.items) ? d.items : null;
  if (!items) throw new OmstackError("E_KUBE_OUTPUT", `${host}: kubectl did not print a node list (kind ${JSON.stringify(d.kind ?? null)})`, { host, remedy: "run the kubectl command on the host and check its output" });
  return items.map((raw) => {
    const n = raw as {
      metadata?: { name?: string; labels?: Record<string, string> };
      spec?: { podCIDR?: string; taints?: { key: string; value?: string; effect: string }[] };
      status?: { addresses?: { type: string; address: string }[]; conditions?: { type: string; status: string }[] };
    };
    return {
      name: String(n.metadata?.name ?? ""),
      podCIDR: n.spec?.podCIDR ?? null,
      internalIP: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? null,
      ready: n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      labels: n.metadata?.labels ?? {},
      taints: (n.spec?.taints ?? []).map(taintString),
    };
  });
}

/** One pod of `kubectl get pods -o json`, reduced to its health. */
export interface KubePod {
  namespace: string;
  name: string;
  phase: string;
  ready: boolean;
  /** Why a container waits (ErrImageNeverPull, CrashLoopBackOff …), if any. */
  waiting: string[];
}

/** Reads `kubectl get pods -o json`; throws E_KUBE_OUTPUT on anything else. */
export function parsePods(json: string, host: string): KubePod[] {
  let doc: { items?: unknown[] };
  try {
    doc = JSON.parse(json) as { items?: unknown[] };
  } catch (e) {
    throw new OmstackError("E_KUBE_OUTPUT", `${host}: kubectl printed something that is not JSON: ${(e as Error).message}`, { host, remedy: "run the kubectl command on the host and check its output" });
  }
  if (!Array.isArray(doc.items)) throw new OmstackError("E_KUBE_OUTPUT", `${host}: kubectl did not print a pod list`, { host, remedy: "run the kubectl command on the host and check its output" });
  return doc.items.map((raw) => {
    const p = raw as {
      metadata?: { namespace?: string; name?: string };
      status?: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
    };
    return {
      namespace: String(p.metadata?.namespace ?? ""),
      name: String(p.metadata?.name ?? ""),
      phase: String(p.status?.phase ?? "Unknown"),
      ready: p.status?.phase === "Succeeded" || (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false),
      waiting: (p.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason).filter((r): r is string => typeof r === "string"),
    };
  });
}

/** Parses a plan taint "key[=value]:Effect". */
export function parseTaint(t: string): { key: string; value: string | null; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" } {
  const m = /^([A-Za-z0-9./_-]+)(?:=([A-Za-z0-9._-]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
  if (!m) throw new OmstackError("E_STEP_CONFIG", `taint ${JSON.stringify(t)} is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`, { remedy: "fix the taint in the plan" });
  return { key: m[1]!, value: m[2] ?? null, effect: m[3] as "NoSchedule" };
}

/** Sleeps (used by waits that poll a host). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when a control plane can answer kubectl as admin (admin.conf and kubectl present): false before init, as in a dry run. */
export async function adminReady(cp: import("../types.js").ReadCtx): Promise<boolean> {
  return (await cp.exists(ADMIN_CONF)) && (await cp.commandExists("kubectl"));
}
