// What the service steps need from Helm, as a port: the steps never import the adapter (adapters/helm/ implements
// this over the bundled binary; adapters/helm/recordingHelm.ts records calls for tests).

/** A release as Helm keeps it: `helm get metadata -o json`, reduced to what the step compares. */
export interface HelmReleaseInfo {
  name: string;
  namespace: string;
  chart: string;
  version: string;
  revision: number;
  /** deployed, failed, pending-install, pending-upgrade, pending-rollback, superseded, uninstalling … */
  status: string;
  /** The release's own labels (Helm's name/owner/status/version ones included). */
  labels: Record<string, string>;
}

/** One row of `helm list -o json`. */
export interface HelmListEntry {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  /** name-version, as Helm prints it. */
  chart: string;
}

/** An install or upgrade of one release from a local chart archive. */
export interface HelmUpgradeRequest {
  release: string;
  namespace: string;
  /** A local .tgz (charts come from the bundle; no repository is ever added). */
  chartPath: string;
  /** Written to a private values file (0600) for the call and removed afterwards. */
  values: Record<string, unknown>;
  /** Release labels (stored by Helm on the release record; values ≤ 63 characters). */
  labels: Record<string, string>;
  timeoutMs: number;
}

/** A render of a chart with values, without a cluster. */
export interface HelmTemplateRequest {
  release: string;
  namespace: string;
  chartPath: string;
  values: Record<string, unknown>;
  /** The cluster's Kubernetes version, for charts that check .Capabilities.KubeVersion. */
  kubeVersion: string | null;
}

/** Semantic Helm operations against the cluster of the install (the client holds the kubeconfig). */
export interface HelmClient {
  /** null when the client can run; else why not (no helm binary in the bundle, kubeconfig not saved yet). */
  unavailable(): Promise<string | null>;
  /** `helm upgrade --install … --rollback-on-failure --wait`: installs, or upgrades, and waits for readiness. */
  upgradeInstall(req: HelmUpgradeRequest): Promise<void>;
  /** The release, or null when Helm has no release of that name in the namespace. */
  release(name: string, namespace: string): Promise<HelmReleaseInfo | null>;
  /** Releases in every namespace, optionally only those whose labels match `selector` (k=v,k2=v2). */
  list(selector?: string): Promise<HelmListEntry[]>;
  /** Removes a release; a release that does not exist is not an error. */
  uninstall(name: string, namespace: string, timeoutMs: number): Promise<void>;
  /** Returns a release stuck in pending-upgrade/pending-rollback to its previous revision. */
  rollback(name: string, namespace: string, timeoutMs: number): Promise<void>;
  /** The rendered manifests (multi-document YAML); needs no cluster. */
  template(req: HelmTemplateRequest): Promise<string>;
  /** The chart's Chart.yaml as text (`helm show chart`); needs no cluster. */
  showChart(chartPath: string): Promise<string>;
}
