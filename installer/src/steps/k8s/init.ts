// k8s.init: `kubeadm init` on the first control plane, from a configuration generated from the plan, offline.
// Done means the cluster is initialised — the kube-system/kubeadm-config ConfigMap is readable with admin.conf — not
// merely that admin.conf exists: a kubeadm killed during wait-control-plane leaves admin.conf and the static pods but
// no cluster (found in the lab), and is reset before init runs again.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { parseCtrImages, CRI_NAMESPACE } from "./images.js";
import { ADMIN_CONF, CRI_SOCKET, KUBEADM_DIR, firstControlPlane, kubectl } from "./kube.js";
import { renderInitConfig } from "./kubeadmConfig.js";

/** The init configuration on the node (no secret in it: tokens and certificate keys are made per join). */
export const INIT_CONFIG_FILE = `${KUBEADM_DIR}/init.yaml`;

/** True when the cluster on this node is initialised (kubeadm-config readable as cluster admin). */
export async function clusterInitialised(ctx: ReadCtx): Promise<boolean> {
  if (!(await ctx.exists(ADMIN_CONF)) || !(await ctx.commandExists("kubectl"))) return false;
  const r = await ctx.query(kubectl("-n", "kube-system", "get", "configmap", "kubeadm-config", "-o", "name", "--request-timeout=20s"), { okExitCodes: [0, 1], timeoutMs: 60_000 });
  return r.exitCode === 0 && r.stdout.includes("configmap/kubeadm-config");
}

/** kubeadm's own image list for this configuration (what init will run). */
function imageList(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => /^[a-z0-9].*:[^/]+$/.test(l));
}

/** Builds the step; the configuration text is computed from the plan when the executor asks for targets. */
export function k8sInit(): Step<Plan> {
  const id = "k8s.init";
  let config = "";
  return {
    id,
    title: "Initialise the cluster on the first control plane (kubeadm init)",
    targets: (plan) => {
      const cp = firstControlPlane(plan);
      config = renderInitConfig(plan, cp);
      return [cp.host];
    },
    inputs: () => ({ config }),
    async check(ctx): Promise<CheckResult> {
      return (await clusterInitialised(ctx)) ? "done" : { pending: "the cluster is not initialised (kube-system/kubeadm-config not readable)" };
    },
    async apply(ctx) {
      await ctx.writeFile(INIT_CONFIG_FILE, config, { mode: 0o600 });
      // Offline: every image kubeadm will run must already be in containerd; say which one is not, never pull.
      const list = imageList((await ctx.run(`kubeadm config images list --config ${INIT_CONFIG_FILE}`, { timeoutMs: 120_000 })).stdout);
      const have = parseCtrImages((await ctx.query(`ctr -n ${CRI_NAMESPACE} images ls`, { timeoutMs: 120_000 })).stdout);
      const missing = list.filter((name) => !have.has(name));
      if (missing.length > 0) {
        throw new OmstackError("E_IMAGE_MISSING", `${ctx.host}: kubeadm needs ${missing.join(", ")}, which the bundle did not bring into containerd`, {
          host: ctx.host,
          remedy: "use a bundle built for this Kubernetes version (its images must match `kubeadm config images list`); nothing is downloaded",
        });
      }
      // A previous init that did not finish left manifests, certificates or etcd data: kubeadm refuses to run over them.
      const leftovers = (await ctx.exists("/etc/kubernetes/manifests/kube-apiserver.yaml")) || (await ctx.exists(ADMIN_CONF)) || (await ctx.exists("/var/lib/etcd/member"));
      if (leftovers) {
        ctx.note("an earlier kubeadm init did not finish here: resetting the node before initialising again");
        await ctx.run(`kubeadm reset -f --cri-socket ${CRI_SOCKET}`, { timeoutMs: 10 * 60_000 });
      }
      await ctx.run(`kubeadm init --config ${shq(INIT_CONFIG_FILE)} --skip-token-print`, { timeoutMs: 20 * 60_000 });
    },
    async verify(ctx) {
      if (!(await clusterInitialised(ctx))) {
        throw verifyFailed(ctx.host, id, "after kubeadm init the cluster must answer as initialised (kube-system/kubeadm-config readable with admin.conf); it does not", "read kubeadm's output in the log and `journalctl -u kubelet` on the node; then run the install again (a half-done init is reset first)");
      }
    },
    describe: (ctx) => [
      `write ${INIT_CONFIG_FILE} (0600):`,
      ...config.trimEnd().split("\n").map((l) => `  ${l}`),
      `check every image of \`kubeadm config images list\` is in containerd (never pulled)`,
      `on ${ctx.host}: kubeadm init --config ${INIT_CONFIG_FILE} --skip-token-print (after kubeadm reset if an earlier init did not finish)`,
    ],
  };
}
