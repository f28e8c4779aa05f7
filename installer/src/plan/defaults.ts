// The bundle versions preflight and plan assume when no bundle file or --bundle-* flag says otherwise.
import type { BundleVersions } from "../preflight/context.js";

/**
 * Stand-in for a bundle's versions until a bundle is given (`--bundle FILE`): the release OMStack currently targets.
 * One place so preflight, plan, tests and docs (docs/commands.md) agree; each value is overridable per run.
 * CUDA 12.8 needs driver ≥ 570.26 (CUDA release notes, Table 3); containerd 2.1 is recommended for Kubernetes 1.33
 * (containerd RELEASES.md) — both rows are in installer/src/preflight/matrices/.
 */
export const DEFAULT_BUNDLE_VERSIONS: Readonly<{ [K in "cudaVersion" | "kubernetesVersion" | "containerdVersion"]: NonNullable<BundleVersions[K]> }> = {
  cudaVersion: "12.8",
  kubernetesVersion: "1.33.4",
  containerdVersion: "2.1.4",
};
