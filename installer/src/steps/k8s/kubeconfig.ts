// k8s.kubeconfig: the cluster-admin kubeconfig from the first control plane, saved for the operator on this machine
// (0600: it holds a client key). Local files go through a small port so the step stays testable.
import type { Plan } from "../../plan/types.js";
import type { CheckResult, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { ADMIN_CONF, firstControlPlane } from "./kube.js";

/** The installer machine's files, as this step needs them. */
export interface LocalFiles {
  read(path: string): Promise<Buffer | null>;
  /** Writes atomically with the given mode (0600 here). */
  write(path: string, content: Buffer, mode: number): Promise<void>;
}

/** Builds the step that keeps `localPath` equal to the control plane's admin.conf. */
export function k8sKubeconfig(localPath: string, local: LocalFiles): Step<Plan> {
  const id = "k8s.kubeconfig";
  return {
    id,
    title: "Save the admin kubeconfig for the operator",
    targets: (plan) => [firstControlPlane(plan).host],
    inputs: () => ({ localPath }),
    async check(ctx): Promise<CheckResult> {
      const remote = await ctx.readFile(ADMIN_CONF);
      if (remote === null) return { pending: `${ADMIN_CONF} does not exist yet` };
      const mine = await local.read(localPath);
      return mine !== null && mine.equals(remote) ? "done" : { pending: `${localPath} is missing or older than ${ADMIN_CONF}` };
    },
    async apply(ctx) {
      const remote = await ctx.readFile(ADMIN_CONF);
      if (remote === null) throw verifyFailed(ctx.host, id, `${ADMIN_CONF} must exist after kubeadm init; it does not`, "run the install again from k8s.init: omstack install --from-step k8s.init");
      await local.write(localPath, remote, 0o600);
    },
    async verify(ctx) {
      const remote = await ctx.readFile(ADMIN_CONF);
      const mine = await local.read(localPath);
      if (remote === null || mine === null || !mine.equals(remote)) throw verifyFailed(ctx.host, id, `${localPath} must equal ${ctx.host}:${ADMIN_CONF}`, `check that ${localPath} is writable, then run the install again`);
    },
    describe: (ctx) => [`copy ${ctx.host}:${ADMIN_CONF} to ${localPath} on this machine (mode 0600)`],
  };
}
