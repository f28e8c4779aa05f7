// The step list an install runs: everything when a bundle is given; host preparation alone (said loudly) without one.
import { randomBytes } from "node:crypto";
import type { Plan } from "../plan/types.js";
import { localJournalSource } from "../admin/journal/handoff-source.js";
import type { AdminPasswordPolicy } from "../config/installConfig.js";
import type { AdminUserSource } from "../steps/admin/service.js";
import { DEFAULT_ADMIN_LISTEN } from "../steps/admin/layout.js";
import { nodeLocalFiles } from "../adapters/fs/localFiles.js";
import { readBundleHead } from "../bundle/verify.js";
import { verifyManifestSignature } from "../bundle/sign.js";
import { OmstackError } from "../errors.js";
import { Journal } from "../state/journal.js";
import { hostPreparationSteps, installSteps } from "../steps/index.js";
import type { Step } from "../steps/types.js";
import { bundlePartsOf, openInstallBundle } from "./installBundle.js";
import { trustedKeys } from "./trust.js";
import { binaryHelm } from "../adapters/helm/binaryHelm.js";
import type { BundleParts } from "../steps/bundleParts.js";

/** What chooses the steps. */
export interface InstallStepChoice {
  bundlePath: string | null;
  trust: string[];
  stateDir: string;
  dryRun: boolean;
  kubeconfigPath: string;
  note: (line: string) => void;
  /** The config's admin password policy, and the password when the wizard asked it (held in memory only). */
  adminPassword: { policy: AdminPasswordPolicy; value: string | null };
  /** Shows a secret once on the operator's terminal, never in the log (a generated admin password). */
  showOnce: (line: string) => void;
}

/** The admin console's first user, created by admin.service. */
export const ADMIN_USER = "admin";

/** The admin console's address: the plan's first control-plane node (its address, else its name) on the service's port. */
export function adminConsoleUrl(plan: Plan): string | null {
  const node = plan.nodes.find((n) => n.roles.includes("control-plane"));
  if (!node) return null;
  const host = node.address ?? node.host;
  const port = DEFAULT_ADMIN_LISTEN.slice(DEFAULT_ADMIN_LISTEN.lastIndexOf(":") + 1);
  return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The admin console's first user: the wizard's password, or one generated now and shown once. */
function adminUserFor(o: InstallStepChoice): AdminUserSource {
  let generated: string | null = null;
  return {
    name: ADMIN_USER,
    password() {
      if (o.adminPassword.value) return o.adminPassword.value;
      if (o.adminPassword.policy === "generate") return (generated = randomBytes(18).toString("base64url"));
      throw new OmstackError("E_USAGE", "cluster.adminPassword is `ask`, but no password was typed (an install with --yes asks nothing)", {
        remedy: "run the install from the wizard (omstack install on a terminal) to type it, or set `adminPassword: generate` to have one generated and shown once",
      });
    },
    onCreated(name) {
      if (generated) o.showOnce(`admin console user "${name}", password ${generated} — shown once and stored nowhere in plain text; change it after logging in (or: omstack admin reset-password on the node)`);
    },
  };
}

/** The steps for this install; a dry run checks the bundle's signature but extracts nothing. */
export async function stepsForInstall(o: InstallStepChoice): Promise<Step<Plan>[]> {
  if (o.bundlePath === null) {
    o.note("no bundle given (--bundle or cluster.bundle): only host preparation runs; Kubernetes and the services need the bundle");
    return hostPreparationSteps();
  }
  const trusted = await trustedKeys(o.trust, o.note);
  if (o.dryRun) {
    const head = await readBundleHead(o.bundlePath);
    if (!head.signature) throw new OmstackError("E_BUNDLE_UNSIGNED", `${o.bundlePath} carries no signature`, { remedy: "install only from a bundle made by `omstack bundle build` (it signs)" });
    verifyManifestSignature(head.manifestBytes, head.signature, trusted);
    o.note(`bundle ${head.manifest.version}: signature verified (a dry run extracts nothing)`);
    const parts = bundlePartsOf(`${o.stateDir}/bundles/(not extracted)`, head.manifest);
    return installSteps({ parts, kubeconfigPath: o.kubeconfigPath, localFiles: nodeLocalFiles, adminUser: adminUserFor(o), journal: localJournalSource(o.stateDir), helm: helmFor(parts, o) });
  }
  const { parts } = await openInstallBundle(o.bundlePath, trusted, o.stateDir, o.note);
  return installSteps({ parts, kubeconfigPath: o.kubeconfigPath, localFiles: nodeLocalFiles, adminUser: adminUserFor(o), journal: localJournalSource(o.stateDir), helm: helmFor(parts, o) });
}

/** The bundle's helm binary against the kubeconfig the install saves (a bundle without helm: the step says so). */
function helmFor(parts: BundleParts, o: InstallStepChoice) {
  return binaryHelm({ helmPath: parts.part("bin/helm")?.source ?? null, kubeconfigPath: o.kubeconfigPath });
}

/** Steps after which a host's Kubernetes ports belong to the cluster being installed. */
const CLUSTER_STEPS = ["k8s.init", "k8s.join-control-planes", "k8s.join-workers"];

/** Hosts this state directory's journal shows Kubernetes started on (any attempt): a re-run resumes them, it does not compete. */
export function hostsWithKubernetes(stateDir: string, hosts: readonly string[]): string[] {
  const journal = Journal.openIfExists(stateDir);
  if (!journal) return [];
  try {
    return hosts.filter((h) => CLUSTER_STEPS.some((id) => journal.lastOutcome(id, h) !== null));
  } finally {
    journal.close();
  }
}
