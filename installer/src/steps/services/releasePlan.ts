// Pure: which Helm releases an install makes (platform add-ons first, then each enabled service whose chart the
// bundle carries), their namespaces and values, the hash stored on each release, and how a live release compares.
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { OmstackError } from "../../errors.js";
import type { PlanService } from "../../plan/types.js";
import type { BundleParts, BundlePartImage } from "../bundleParts.js";
import type { HelmReleaseInfo } from "./ports.js";

/** Release label holding the hash of what the release was installed from (chart sha256, namespace, values). */
export const INPUTS_LABEL = "omstack.io/inputs";
/** Release label marking releases omstack manages (so a listing finds them, and only them). */
export const MANAGED_LABEL = "omstack.io/managed-by";
/** Release label naming the service or add-on a release belongs to. */
export const SERVICE_LABEL = "omstack.io/service";
/** Chart.yaml annotation by which a chart asks for `global.omstack` (bundle version, images) in its values. */
export const BUNDLE_VALUES_ANNOTATION = "omstack.io/bundle-values";

/** A chart of the bundle, resolved to its local archive. */
export interface ChartFile {
  name: string;
  version: string;
  /** The local .tgz (extracted bundle). */
  source: string;
  sha256: string;
}

/** A platform add-on: a bundle chart installed whatever services are enabled (a CSI driver, metrics …). */
export interface AddonSpec {
  name: string;
  chart: string;
  namespace: string;
  values?: Record<string, unknown>;
}

/** One release the step makes. */
export interface PlannedRelease {
  kind: "addon" | "service";
  /** The service or add-on name (release label omstack.io/service). */
  owner: string;
  release: string;
  namespace: string;
  chart: ChartFile;
  /** The values from the plan (or the add-on), before the bundle values a chart may ask for. */
  values: Record<string, unknown>;
}

/** The chart that carries a service: the bundle chart named omstack-<service>. */
export function chartNameFor(service: string): string {
  return `omstack-${service}`;
}

/** The namespace a service's release lives in. */
export function namespaceFor(service: string): string {
  return `omstack-${service}`;
}

/** Releases for the plan, and the enabled services the bundle has no chart for (said to the operator, not fatal). */
export function planReleases(services: readonly PlanService[], parts: BundleParts, addons: readonly AddonSpec[] = []): { releases: PlannedRelease[]; withoutChart: string[] } {
  const charts = parts.charts ?? [];
  const resolve = (name: string, wanted: string): ChartFile | null => {
    const matches = charts.filter((c) => c.name === name);
    if (matches.length > 1) {
      throw new OmstackError("E_STEP_CONFIG", `bundle ${parts.version} carries ${matches.length} versions of chart ${name} (${matches.map((c) => c.version).join(", ")}); ${wanted} needs exactly one`, {
        remedy: "build the bundle with one version of each chart",
      });
    }
    const c = matches[0];
    if (!c) return null;
    const file = parts.part(c.path);
    if (!file) {
      throw new OmstackError("E_BUNDLE_PART_MISSING", `bundle ${parts.version} lists chart ${c.name} ${c.version} at ${c.path}, but carries no such file`, {
        remedy: "rebuild the bundle with `omstack bundle build`; bundle verify must pass",
      });
    }
    return { name: c.name, version: c.version, source: file.source, sha256: file.sha256 };
  };
  const releases: PlannedRelease[] = [];
  const seen = new Set<string>();
  const add = (r: PlannedRelease) => {
    const key = `${r.namespace}/${r.release}`;
    if (seen.has(key)) throw new OmstackError("E_STEP_CONFIG", `two releases would be named ${key}`, { remedy: "give each add-on its own name and namespace" });
    seen.add(key);
    releases.push(r);
  };
  for (const a of addons) {
    if (!/^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/.test(a.name)) throw new OmstackError("E_STEP_CONFIG", `add-on name "${a.name}" is not a valid release name (lower-case letters, digits, '-', at most 53)`, { remedy: "rename the add-on" });
    const chart = resolve(a.chart, `add-on ${a.name}`);
    if (!chart) throw new OmstackError("E_BUNDLE_PART_MISSING", `add-on ${a.name} needs chart ${a.chart}, which bundle ${parts.version} does not carry`, { remedy: "install from a bundle built with the platform add-on charts" });
    add({ kind: "addon", owner: a.name, release: a.name, namespace: a.namespace, chart, values: structuredClone(a.values ?? {}) });
  }
  const withoutChart: string[] = [];
  for (const s of services) {
    if (!s.enabled) continue;
    const chart = resolve(chartNameFor(s.name), `service ${s.name}`);
    if (!chart) {
      withoutChart.push(s.name);
      continue;
    }
    add({ kind: "service", owner: s.name, release: s.name, namespace: namespaceFor(s.name), chart, values: structuredClone(s.values) });
  }
  return { releases, withoutChart };
}

/** True when the chart's Chart.yaml asks for `global.omstack` (annotation omstack.io/bundle-values: "true"). */
export function wantsBundleValues(chartYaml: string): boolean {
  try {
    const d = parseYaml(chartYaml) as { annotations?: Record<string, unknown> } | null;
    return String(d?.annotations?.[BUNDLE_VALUES_ANNOTATION] ?? "") === "true";
  } catch {
    return false;
  }
}

/** `global.omstack` for a chart that asks for it: the bundle version and its images, repository → name as stored. */
export function bundleValues(version: string, images: readonly BundlePartImage[]): Record<string, unknown> {
  const byRepo: Record<string, string> = {};
  for (const im of [...images].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const repo = im.name.replace(/@.*$/, "").replace(/:[^/:]+$/, "");
    byRepo[repo] ??= im.name;
  }
  return { global: { omstack: { bundleVersion: version, images: byRepo } } };
}

/** Deep merge of plain objects (b wins; arrays and scalars are replaced, not merged). */
export function mergeValues(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isPlain(cur) && isPlain(v) ? mergeValues(cur, v) : v;
  }
  return out;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON with sorted keys, so the hash never depends on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isPlain(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v ?? null);
}

/** The hash stored in the release label: 48 hex characters of sha256 (label values are at most 63). */
export function releaseHash(r: PlannedRelease, finalValues: Record<string, unknown>): string {
  return createHash("sha256").update(canonical({ chart: r.chart.sha256, namespace: r.namespace, release: r.release, values: finalValues })).digest("hex").slice(0, 48);
}

/** What the step must do about one release, given what helm shows. */
export type ReleaseState =
  | { state: "current" }
  | { state: "install" | "upgrade"; why: string }
  /** helm was killed during a first install: remove the stuck release, then install. */
  | { state: "reinstall"; why: string }
  /** helm was killed during an upgrade or rollback: roll back to the last good revision, then upgrade. */
  | { state: "unstick"; why: string };

/** Compares a live release with the planned one. */
export function releaseState(live: HelmReleaseInfo | null, r: PlannedRelease, hash: string): ReleaseState {
  if (!live) return { state: "install", why: `release ${r.namespace}/${r.release} is not installed` };
  if (live.status === "pending-install") return { state: "reinstall", why: `release ${r.namespace}/${r.release} is stuck in pending-install (an install was interrupted)` };
  if (live.status === "pending-upgrade" || live.status === "pending-rollback") return { state: "unstick", why: `release ${r.namespace}/${r.release} is stuck in ${live.status} (an upgrade was interrupted)` };
  if (live.status !== "deployed") return { state: "upgrade", why: `release ${r.namespace}/${r.release} is ${live.status}` };
  if (live.chart !== r.chart.name || live.version !== r.chart.version) return { state: "upgrade", why: `release ${r.namespace}/${r.release} runs chart ${live.chart} ${live.version}; the bundle has ${r.chart.name} ${r.chart.version}` };
  if (live.labels[INPUTS_LABEL] !== hash) return { state: "upgrade", why: `release ${r.namespace}/${r.release} was installed with other values or another chart build` };
  return { state: "current" };
}

/** The release labels omstack sets. */
export function releaseLabels(r: PlannedRelease, hash: string): Record<string, string> {
  return { [INPUTS_LABEL]: hash, [MANAGED_LABEL]: "omstack", [SERVICE_LABEL]: r.owner };
}
