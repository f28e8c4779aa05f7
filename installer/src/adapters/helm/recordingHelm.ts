// A HelmClient for tests: keeps releases in memory the way helm would (revisions, labels, status), records every call
// with its arguments, and fails where a test says so. No process, no cluster.
import type { HelmClient, HelmListEntry, HelmReleaseInfo, HelmTemplateRequest, HelmUpgradeRequest } from "../../steps/services/ports.js";

/** One recorded call. */
export type HelmCall =
  | { op: "upgradeInstall"; req: HelmUpgradeRequest }
  | { op: "release"; name: string; namespace: string }
  | { op: "list"; selector: string | undefined }
  | { op: "uninstall"; name: string; namespace: string }
  | { op: "rollback"; name: string; namespace: string }
  | { op: "template"; req: HelmTemplateRequest }
  | { op: "showChart"; chartPath: string };

/** The recorder: the client plus what it saw and holds. */
export interface RecordingHelm extends HelmClient {
  calls: HelmCall[];
  /** Releases by "namespace/name", with the values of their last install or upgrade. */
  releases: Map<string, HelmReleaseInfo & { values: Record<string, unknown> }>;
  /** Only the calls that change the cluster (upgradeInstall, uninstall, rollback). */
  writes(): HelmCall[];
}

export interface RecordingHelmOptions {
  /** What unavailable() answers (default null: usable). */
  unavailable?: string | null;
  /** Throw this error for a call (after recording it); return null to let it succeed. */
  fail?: (call: HelmCall) => Error | null;
  /** What template renders (default: no documents). */
  render?: (req: HelmTemplateRequest) => string;
  /** What showChart prints for a chart path (default: name and version from the file name). */
  chartYaml?: (chartPath: string) => string;
  /** Releases present before the test starts. */
  existing?: (HelmReleaseInfo & { values?: Record<string, unknown> })[];
}

/** Chart name and version from a bundle chart path (charts/<name>-<version>.tgz). */
function chartOf(path: string): { chart: string; version: string } {
  const base = path.split("/").pop()!.replace(/\.tgz$/, "");
  const m = /^(.*?)-(\d[^-]*(?:-.+)?)$/.exec(base);
  return m ? { chart: m[1]!, version: m[2]! } : { chart: base, version: "0.0.0" };
}

/** Builds a recorder. */
export function recordingHelm(o: RecordingHelmOptions = {}): RecordingHelm {
  const calls: HelmCall[] = [];
  const releases = new Map<string, HelmReleaseInfo & { values: Record<string, unknown> }>();
  for (const r of o.existing ?? []) releases.set(`${r.namespace}/${r.name}`, { ...r, values: r.values ?? {} });
  const record = (c: HelmCall) => {
    calls.push(c);
    const e = o.fail?.(c);
    if (e) throw e;
  };
  return {
    calls,
    releases,
    writes: () => calls.filter((c) => c.op === "upgradeInstall" || c.op === "uninstall" || c.op === "rollback"),
    unavailable: async () => o.unavailable ?? null,
    async upgradeInstall(req) {
      record({ op: "upgradeInstall", req: structuredClone(req) });
      const key = `${req.namespace}/${req.release}`;
      const prev = releases.get(key);
      const { chart, version } = chartOf(req.chartPath);
      releases.set(key, {
        name: req.release,
        namespace: req.namespace,
        chart,
        version,
        revision: (prev?.revision ?? 0) + 1,
        status: "deployed",
        labels: { ...(prev?.labels ?? {}), ...req.labels, name: req.release, owner: "helm", status: "deployed" },
        values: structuredClone(req.values),
      });
    },
    async release(name, namespace) {
      record({ op: "release", name, namespace });
      const r = releases.get(`${namespace}/${name}`);
      if (!r) return null;
      const { values: _v, ...info } = r;
      return structuredClone(info);
    },
    async list(selector) {
      record({ op: "list", selector });
      const want = (selector ?? "").split(",").filter(Boolean).map((kv) => kv.split("=") as [string, string]);
      const out: HelmListEntry[] = [];
      for (const r of releases.values()) {
        if (want.every(([k, v]) => r.labels[k] === v)) out.push({ name: r.name, namespace: r.namespace, revision: r.revision, status: r.status, chart: `${r.chart}-${r.version}` });
      }
      return out;
    },
    async uninstall(name, namespace) {
      record({ op: "uninstall", name, namespace });
      releases.delete(`${namespace}/${name}`);
    },
    async rollback(name, namespace) {
      record({ op: "rollback", name, namespace });
      const r = releases.get(`${namespace}/${name}`);
      if (r) releases.set(`${namespace}/${name}`, { ...r, revision: r.revision + 1, status: "deployed", labels: { ...r.labels, status: "deployed" } });
    },
    async template(req) {
      record({ op: "template", req: structuredClone(req) });
      return o.render?.(req) ?? "";
    },
    async showChart(chartPath) {
      record({ op: "showChart", chartPath });
      const { chart, version } = chartOf(chartPath);
      return o.chartYaml?.(chartPath) ?? `apiVersion: v2\nname: ${chart}\nversion: ${version}\n`;
    },
  };
}
