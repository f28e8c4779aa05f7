// k8s.ready: waits until every planned node is Ready and every kube-system pod is running and ready; on timeout says
// which are not and why (ErrImageNeverPull = an image the bundle lacks; nothing is ever pulled).
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { adminReady, firstControlPlane, kubectl, parseNodes, parsePods, sleep } from "./kube.js";

/** What is not healthy yet, one phrase per node or pod; empty when the cluster is ready. */
export async function unhealthy(cp: ReadCtx, nodeNames: readonly string[]): Promise<string[]> {
  const nodes = parseNodes((await cp.query(kubectl("get", "nodes", "-o", "json", "--request-timeout=30s"), { timeoutMs: 60_000 })).stdout, cp.host);
  const pods = parsePods((await cp.query(kubectl("-n", "kube-system", "get", "pods", "-o", "json", "--request-timeout=30s"), { timeoutMs: 60_000 })).stdout, cp.host);
  const out: string[] = [];
  for (const name of nodeNames) {
    const n = nodes.find((x) => x.name === name);
    if (!n) out.push(`node ${name} is not in the cluster`);
    else if (!n.ready) out.push(`node ${name} is not Ready`);
  }
  if (pods.length === 0) out.push("no kube-system pods yet");
  for (const p of pods) if (!p.ready) out.push(`pod kube-system/${p.name} is ${p.phase}${p.waiting.length ? ` (${p.waiting.join(", ")})` : ""}`);
  return out;
}

/** Remedy for what the wait saw last. */
function remedyFor(problems: string[]): string {
  if (problems.some((p) => p.includes("ErrImageNeverPull"))) return "an image is missing from containerd: use a bundle built for this Kubernetes version; `crictl images` or `ctr -n k8s.io images ls` on the node shows what is there";
  return "read `kubectl -n kube-system describe pod …` and `journalctl -u kubelet` on the nodes named; then run the install again (it waits again)";
}

/** Builds the step; `timeoutMs` bounds the wait (default 10 minutes), `pollMs` its interval. */
export function k8sReady(opts: { timeoutMs?: number; pollMs?: number } = {}): Step<Plan> {
  const id = "k8s.ready";
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const pollMs = opts.pollMs ?? 3000;
  let names: string[] = [];
  return {
    id,
    title: "Wait for every node Ready and the system pods running",
    needsEveryHost: true,
    targets: (plan) => {
      names = plan.nodes.map((n) => n.host);
      return [firstControlPlane(plan).host];
    },
    inputs: (_h, plan) => plan.nodes.map((n) => n.host),
    async check(ctx): Promise<CheckResult> {
      if (!(await adminReady(ctx))) return { pending: "the cluster is not initialised yet" };
      const u = await unhealthy(ctx, names);
      return u.length ? { pending: u.slice(0, 4).join("; ") + (u.length > 4 ? "; …" : "") } : "done";
    },
    async apply(ctx) {
      const deadline = Date.now() + timeoutMs;
      let last: string[] = [];
      for (;;) {
        last = await unhealthy(ctx, names);
        if (last.length === 0) return;
        if (Date.now() >= deadline) break;
        await sleep(pollMs);
      }
      throw new OmstackError("E_CLUSTER_NOT_READY", `${ctx.host}: the cluster was not healthy within ${Math.round(timeoutMs / 1000)} s: ${last.join("; ")}`, { host: ctx.host, remedy: remedyFor(last) });
    },
    async verify(ctx) {
      const u = await unhealthy(ctx, names);
      if (u.length) throw verifyFailed(ctx.host, id, `every node must be Ready and every kube-system pod ready; ${u.join("; ")}`, remedyFor(u));
    },
    describe: () => [`poll every ${pollMs / 1000} s, for at most ${Math.round(timeoutMs / 60_000)} min, until ${names.join(", ")} are Ready and every kube-system pod is ready`],
  };
}
