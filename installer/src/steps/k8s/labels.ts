// k8s.node-labels: the plan's labels, role labels and taints on the node objects, reconciled on every run. Kubelets may
// not set node-role.kubernetes.io/* themselves (NodeRestriction), so the cluster admin sets them here.
import type { Plan, PlanNode } from "../../plan/types.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { adminReady, firstControlPlane, kubectl, parseNodes, parseTaint, type KubeNode } from "./kube.js";

/** Taint keys omstack manages: one of these on a node that the plan does not give it is removed. */
export const MANAGED_TAINT_KEYS = ["node-role.kubernetes.io/control-plane", "nvidia.com/gpu"];

/** Labels a node must carry: the plan's, plus node-role.kubernetes.io/<role> for each role. */
export function wantedLabels(node: PlanNode): Record<string, string> {
  const out: Record<string, string> = { ...node.labels };
  for (const r of node.roles) out[`node-role.kubernetes.io/${r}`] = "";
  return out;
}

/** The kubectl changes that bring one node object to the plan (empty when it already matches). */
export function labelChanges(plan: PlanNode, live: KubeNode): string[][] {
  const cmds: string[][] = [];
  const labels = Object.entries(wantedLabels(plan)).filter(([k, v]) => live.labels[k] !== v);
  if (labels.length) cmds.push(["label", "node", plan.host, "--overwrite", ...labels.map(([k, v]) => `${k}=${v}`)]);
  for (const t of plan.taints) if (!live.taints.includes(t)) cmds.push(["taint", "node", plan.host, t, "--overwrite"]);
  for (const t of live.taints) {
    const key = parseTaintSafe(t);
    if (key && MANAGED_TAINT_KEYS.includes(key) && !plan.taints.includes(t)) cmds.push(["taint", "node", plan.host, `${t}-`]);
  }
  return cmds;
}

function parseTaintSafe(t: string): string | null {
  try {
    return parseTaint(t).key;
  } catch {
    return null;
  }
}

async function changes(cp: ReadCtx, nodes: PlanNode[]): Promise<{ cmds: string[][]; missing: string[] }> {
  const live = parseNodes((await cp.query(kubectl("get", "nodes", "-o", "json", "--request-timeout=30s"), { timeoutMs: 60_000 })).stdout, cp.host);
  const cmds: string[][] = [];
  const missing: string[] = [];
  for (const n of nodes) {
    const l = live.find((x) => x.name === n.host);
    if (!l) missing.push(n.host);
    else cmds.push(...labelChanges(n, l));
  }
  return { cmds, missing };
}

/** Builds the step (runs once, on the first control plane). */
export function k8sNodeLabels(): Step<Plan> {
  const id = "k8s.node-labels";
  let nodes: PlanNode[] = [];
  return {
    id,
    title: "Label and taint the nodes as planned",
    needsEveryHost: true,
    targets: (plan) => {
      nodes = plan.nodes;
      return [firstControlPlane(plan).host];
    },
    inputs: (_h, plan) => plan.nodes.map((n) => ({ host: n.host, labels: wantedLabels(n), taints: n.taints })),
    async check(ctx): Promise<CheckResult> {
      if (!(await adminReady(ctx))) return { pending: "the cluster is not initialised yet" };
      const c = await changes(ctx, nodes);
      if (c.missing.length) return { pending: `nodes not in the cluster yet: ${c.missing.join(", ")}` };
      return c.cmds.length ? { pending: `${c.cmds.length} label or taint change(s)` } : "done";
    },
    async apply(ctx) {
      const c = await changes(ctx, nodes);
      for (const args of c.cmds) await ctx.run(kubectl(...args, "--request-timeout=60s"), { timeoutMs: 120_000 });
    },
    async verify(ctx) {
      const c = await changes(ctx, nodes);
      if (c.missing.length || c.cmds.length) {
        throw verifyFailed(ctx.host, id, `every node must exist with the plan's labels and taints; ${c.missing.length ? `missing nodes ${c.missing.join(", ")}; ` : ""}${c.cmds.map((a) => a.join(" ")).join("; ")}`, "something changes the node objects back (another controller?); run the install again");
      }
    },
    describe: () => nodes.map((n) => `${n.host}: labels ${Object.entries(wantedLabels(n)).map(([k, v]) => `${k}=${v}`).join(", ") || "(none)"}; taints ${n.taints.join(", ") || "(none)"}`),
  };
}
