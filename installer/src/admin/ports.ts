// The admin service's doors to the outside world: cluster reads, upgrades, support gathering, bundle checks.
// Tests pass recording fakes (admin/testing/); the node passes real adapters (Kubernetes client, executor, SSH).
import type { HostFacts } from "../probe/facts.js";

/** One Kubernetes node as the cluster reports it. */
export interface NodeState {
  name: string;
  roles: string[];
  ready: boolean | null;
  kubeletVersion: string | null;
}

/** A pod in a system namespace (kube-system, the platform's operators). */
export interface PodState {
  namespace: string;
  name: string;
  node: string | null;
  phase: string;
  ready: boolean;
  restarts: number;
}

/** One platform service and the result of each of its health checks. */
export interface ServiceState {
  name: string;
  version: string | null;
  status: "healthy" | "degraded" | "down" | "unknown";
  uiPath: string | null;
  checks: { name: string; ok: boolean; detail: string }[];
}

export interface CertificateState {
  name: string;
  notAfter: string;
}

export interface EtcdMemberState {
  name: string;
  healthy: boolean;
  dbSizeBytes: number | null;
}

/** Everything the overview needs about the cluster, read in one go. */
export interface ClusterSnapshot {
  nodes: NodeState[];
  systemPods: PodState[];
  services: ServiceState[];
  certificates: CertificateState[];
  etcd: EtcdMemberState[];
  components: Record<string, string>;
  facts: HostFacts[];
}

/** Reads cluster state; the default reads the state DB, a live one wraps @kubernetes/client-node. */
export interface ClusterPort {
  snapshot(): Promise<ClusterSnapshot>;
}

/** A bundle as verification describes it. */
export interface VerifiedBundle {
  name: string;
  version: string;
  components: Record<string, string>;
  sha256: string;
  sizeBytes: number;
}

/** Checks a bundle file (manifest, checksums) before it may be listed; throws E_ADMIN_BUNDLE_INVALID. */
export interface BundleVerifier {
  verify(path: string): Promise<VerifiedBundle>;
}

/** One preflight result for an upgrade. */
export interface PreflightOutcome {
  id: string;
  status: "pass" | "warn" | "fail";
  message: string;
  remedy: string | null;
}

/** Progress reported by an upgrade while it runs. */
export type UpgradeEvent =
  | { type: "step-start"; stepId: string; title: string }
  | { type: "step-log"; stepId: string; line: string }
  | { type: "step-done"; stepId: string }
  | { type: "step-failed"; stepId: string; message: string }
  | { type: "progress"; percent: number; message: string };

/** Runs an upgrade to a verified bundle; the executor behind it does the work. */
export interface UpgradePort {
  preflight(bundle: VerifiedBundle & { path: string }): Promise<PreflightOutcome[]>;
  /** Resolves when finished; rejects on failure (after any rollback, reported via `rolledBack`). */
  run(bundle: VerifiedBundle & { path: string }, report: (e: UpgradeEvent) => void): Promise<void>;
}

/** A file to put in the support bundle. */
export interface SupportFile {
  path: string;
  content: string | Buffer;
}

/** Gathers diagnostics from the hosts over SSH (works with the Kubernetes API down). */
export interface SupportPort {
  /** Files from the hosts and the cluster: kubectl objects/events, service logs, nvidia-smi -q, ibstat, ibv_devinfo. */
  gather(): Promise<SupportFile[]>;
}
