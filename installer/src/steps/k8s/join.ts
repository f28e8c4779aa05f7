// k8s.join-control-planes and k8s.join-workers: `kubeadm join` with credentials made fresh on the first control plane
// for each join (a 15-minute token; for control planes a certificate key), kept out of logs and removed afterwards.
// Done means the node's kubelet.conf exists and the cluster knows the node; a half-joined node is reset and its node
// object deleted before it joins again (found in the lab).
import { randomBytes } from "node:crypto";
import { OmstackError } from "../../errors.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { shq } from "../shell.js";
import type { CheckResult, ReadCtx, Step, StepReadCtx } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { CRI_SOCKET, KUBEADM_DIR, KUBELET_CONF, adminReady, controlPlanes, firstControlPlane, kubectl } from "./kube.js";
import { parseCertificateKey, parseJoinCommand, renderJoinConfig } from "./kubeadmConfig.js";

/** The join configuration while a join runs (0600; it holds a bootstrap token, removed after). */
export const JOIN_CONFIG_FILE = `${KUBEADM_DIR}/join.yaml`;

async function nodeKnown(cp: ReadCtx, name: string): Promise<boolean> {
  const r = await cp.query(kubectl("get", "node", name, "-o", "name", "--request-timeout=20s"), { okExitCodes: [0, 1], timeoutMs: 60_000 });
  return r.exitCode === 0 && r.stdout.trim() === `node/${name}`;
}

async function joined(ctx: StepReadCtx, cpHost: string): Promise<boolean> {
  if (!(await ctx.exists(KUBELET_CONF))) return false;
  const cp = await ctx.peer(cpHost);
  return (await adminReady(cp)) && nodeKnown(cp, ctx.host);
}

function joinStep(kind: "control-plane" | "worker"): Step<Plan> {
  const id = kind === "control-plane" ? "k8s.join-control-planes" : "k8s.join-workers";
  const nodes = new Map<string, PlanNode>();
  let cpHost = "";
  // One certificate key per installer process, shared by every control-plane join of this run: each
  // `upload-certs` re-encrypts the kubeadm-certs Secret, so a fresh key per join would invalidate the key a parallel
  // join already holds ("error decoding secret data with provided key", found in the lab). Held in memory only.
  let certificateKeyOfRun: string | null = null;
  const nodeOf = (host: string) => {
    const n = nodes.get(host);
    if (!n) throw new OmstackError("E_STEP_CONFIG", `${host}: ${id} has no plan node for this host`, { host, remedy: "this is a bug: the executor asks a step for its targets first; please report it" });
    return n;
  };
  return {
    id,
    title: kind === "control-plane" ? "Join the other control-plane nodes (kubeadm join --control-plane)" : "Join the worker nodes (kubeadm join)",
    targets: (plan) => {
      cpHost = firstControlPlane(plan).host;
      const cps = new Set(controlPlanes(plan).map((n) => n.host));
      const mine = plan.nodes.filter((n) => n.host !== cpHost && (kind === "control-plane" ? cps.has(n.host) : !cps.has(n.host)));
      for (const n of mine) nodes.set(n.host, n);
      return mine.map((n) => n.host);
    },
    inputs: (host, plan) => {
      const n = plan.nodes.find((x) => x.host === host);
      return { node: host, address: n?.address ?? null, taints: n?.taints ?? [], endpoint: plan.cluster.controlPlaneEndpoint, controlPlane: kind === "control-plane" };
    },
    async check(ctx): Promise<CheckResult> {
      return (await joined(ctx, cpHost)) ? "done" : { pending: `${ctx.host} has not joined the cluster yet` };
    },
    async apply(ctx) {
      const node = nodeOf(ctx.host);
      const cp = await ctx.peer(cpHost);
      const halfDone = (await ctx.exists(KUBELET_CONF)) || (await ctx.exists("/etc/kubernetes/pki/ca.crt")) || (await ctx.exists("/etc/kubernetes/manifests/kube-apiserver.yaml"));
      if (halfDone) {
        ctx.note("an earlier join did not finish here: resetting the node and removing its node object before joining again");
        await ctx.run(`kubeadm reset -f --cri-socket ${CRI_SOCKET}`, { timeoutMs: 10 * 60_000 });
      }
      if (await nodeKnown(cp, ctx.host)) await cp.run(kubectl("delete", "node", ctx.host, "--ignore-not-found", "--request-timeout=60s"), { timeoutMs: 120_000 });
      const joinCmd = await cp.run("kubeadm token create --print-join-command --ttl 15m", { secret: true, timeoutMs: 120_000 });
      const cred = parseJoinCommand(joinCmd.stdout);
      if (!cred) throw new OmstackError("E_KUBE_OUTPUT", `${cpHost}: \`kubeadm token create --print-join-command\` printed no join command omstack understands`, { host: cpHost, remedy: "run it on the control plane by hand and check kubeadm's version matches the bundle's" });
      let certificateKey: string | undefined;
      if (kind === "control-plane") {
        certificateKeyOfRun ??= randomBytes(32).toString("hex");
        const up = await cp.run(`kubeadm init phase upload-certs --upload-certs --certificate-key ${certificateKeyOfRun}`, { secret: true, redact: [certificateKeyOfRun], timeoutMs: 120_000 });
        if (parseCertificateKey(up.stdout) !== certificateKeyOfRun) throw new OmstackError("E_KUBE_OUTPUT", `${cpHost}: \`kubeadm init phase upload-certs --upload-certs\` did not confirm the certificate key`, { host: cpHost, remedy: "run `kubeadm init phase upload-certs --upload-certs` on the control plane by hand and read its error" });
        certificateKey = certificateKeyOfRun;
      }
      await ctx.writeFile(JOIN_CONFIG_FILE, renderJoinConfig(node, { ...cred, ...(certificateKey ? { certificateKey } : {}) }, kind === "control-plane"), { mode: 0o600 });
      // The join file holds a token: removed whatever happened; a failure removing it never hides the join's own error.
      let joinError: unknown = null;
      try {
        await ctx.run(`kubeadm join --config ${shq(JOIN_CONFIG_FILE)}`, { timeoutMs: 20 * 60_000 });
      } catch (e) {
        joinError = e;
      }
      try {
        await ctx.remove(JOIN_CONFIG_FILE);
      } catch (e) {
        if (joinError === null) throw e;
      }
      if (joinError !== null) throw joinError;
    },
    async verify(ctx) {
      if (!(await joined(ctx, cpHost))) {
        throw verifyFailed(ctx.host, id, `after kubeadm join the node must have ${KUBELET_CONF} and be listed by the cluster; it is not`, "read kubeadm's output in the log and `journalctl -u kubelet` on the node; then run the install again (a half-joined node is reset first)");
      }
    },
    describe: (ctx) => [
      `on ${cpHost}: kubeadm token create --ttl 15m${kind === "control-plane" ? " and kubeadm init phase upload-certs (a fresh certificate key)" : ""} — never logged`,
      `on ${ctx.host}: write ${JOIN_CONFIG_FILE} (0600), kubeadm join --config it${kind === "control-plane" ? " as a control plane" : ""}, remove it`,
    ],
  };
}

/** Joins the control planes after the first one. */
export function k8sJoinControlPlanes(): Step<Plan> {
  return joinStep("control-plane");
}

/** Joins every node that is not a control plane. */
export function k8sJoinWorkers(): Step<Plan> {
  return joinStep("worker");
}
