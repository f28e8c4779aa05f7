// The step list an install runs: everything when a bundle is given; host preparation alone (said loudly) without one.
import type { Plan } from "../plan/types.js";
import { nodeLocalFiles } from "../adapters/fs/localFiles.js";
import { readBundleHead } from "../bundle/verify.js";
import { verifyManifestSignature } from "../bundle/sign.js";
import { OmstackError } from "../errors.js";
import { Journal } from "../state/journal.js";
import { hostPreparationSteps, installSteps } from "../steps/index.js";
import type { Step } from "../steps/types.js";
import { bundlePartsOf, openInstallBundle } from "./installBundle.js";
import { trustedKeys } from "./trust.js";

/** What chooses the steps. */
export interface InstallStepChoice {
  bundlePath: string | null;
  trust: string[];
  stateDir: string;
  dryRun: boolean;
  kubeconfigPath: string;
  note: (line: string) => void;
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
    return installSteps({ parts: bundlePartsOf(`${o.stateDir}/bundles/(not extracted)`, head.manifest), kubeconfigPath: o.kubeconfigPath, localFiles: nodeLocalFiles });
  }
  const { parts } = await openInstallBundle(o.bundlePath, trusted, o.stateDir, o.note);
  return installSteps({ parts, kubeconfigPath: o.kubeconfigPath, localFiles: nodeLocalFiles });
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
