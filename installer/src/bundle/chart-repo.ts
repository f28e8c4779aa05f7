// Charts from Helm chart repositories: index.yaml over HTTP(S), the chart archive it lists, checked against the
// index's sha256 digest (and the recipe's own pin, when it has one) before it may enter a bundle. The archive is kept
// byte for byte, so the bundle's sha256 equals the publisher's digest.
import { parse as parseYaml } from "yaml";
import { OmstackError } from "../errors.js";
import { backoff, DEFAULT_RETRY, fetchVerified, HttpStatusError, isTransient, type RetryPolicy } from "./fetch.js";

/** One chart version as a repository's index.yaml lists it. */
export interface ChartIndexEntry {
  name: string;
  version: string;
  appVersion?: string;
  digest: string | null; // sha256 hex, null when the index carries none
  urls: string[];
}

/** A chart the recipe takes from a repository. */
export interface RepoChartRef {
  repo: string; // base URL; the index is <repo>/index.yaml
  name: string;
  version: string;
  sha256?: string; // the recipe's own pin (optional); must equal the index's digest
}

/** The index URL of a repository base URL (Helm's rule: <repo>/index.yaml). */
export function indexUrl(repo: string): string {
  return `${repo.replace(/\/+$/, "")}/index.yaml`;
}

/** Parses index.yaml (pure): entries by chart name. Throws E_BUNDLE_FETCH naming the index when it is not one. */
export function parseChartIndex(text: string, url: string): Map<string, ChartIndexEntry[]> {
  const bad = (what: string): never => {
    throw new OmstackError("E_BUNDLE_FETCH", `${url} is not a Helm repository index: ${what}`, { remedy: "check the repo: URL; `helm repo index` writes index.yaml at the repository's root" });
  };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return bad(`YAML error: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return bad("not a mapping");
  const entries = (doc as Record<string, unknown>).entries;
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) return bad("no entries: mapping");
  const out = new Map<string, ChartIndexEntry[]>();
  for (const [name, list] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(list)) return bad(`entries.${name} is not a list`);
    out.set(
      name,
      list.map((v, i) => {
        const e = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
        const version = typeof e.version === "string" ? e.version : typeof e.version === "number" ? String(e.version) : bad(`entries.${name}[${i}] has no version`);
        const urls = Array.isArray(e.urls) ? e.urls.filter((u): u is string => typeof u === "string") : [];
        const digest = typeof e.digest === "string" && /^[0-9a-f]{64}$/.test(e.digest) ? e.digest : null;
        return { name, version, ...(typeof e.appVersion === "string" ? { appVersion: e.appVersion } : {}), digest, urls };
      }),
    );
  }
  return out;
}

/** The entry for name@version, or an error listing what the repository does have. */
export function findChart(index: Map<string, ChartIndexEntry[]>, ref: RepoChartRef): ChartIndexEntry {
  const versions = index.get(ref.name);
  if (!versions) {
    const names = [...index.keys()].sort();
    throw new OmstackError("E_BUNDLE_RECIPE", `chart ${ref.name} is not in ${indexUrl(ref.repo)}; it lists ${names.length} chart(s)${names.length ? `: ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", …" : ""}` : ""}`, {
      remedy: "fix charts[].name or charts[].repo",
    });
  }
  const hit = versions.find((v) => v.version === ref.version);
  if (!hit) {
    throw new OmstackError("E_BUNDLE_RECIPE", `chart ${ref.name} has no version ${ref.version} in ${indexUrl(ref.repo)}; it has ${versions.map((v) => v.version).slice(0, 15).join(", ")}`, {
      remedy: "pin one of the listed versions in charts[].version",
    });
  }
  if (hit.urls.length === 0) throw new OmstackError("E_BUNDLE_FETCH", `${indexUrl(ref.repo)} lists ${ref.name} ${ref.version} without a download URL`, { remedy: "ask the repository's maintainers to fix the index" });
  return hit;
}

/** Where the archive of an entry is: its first URL, resolved against the repository (relative URLs are common). */
export function chartDownloadUrl(entry: ChartIndexEntry, repo: string): string {
  return new URL(entry.urls[0]!, `${repo.replace(/\/+$/, "")}/`).toString();
}

async function fetchText(url: string, policy: RetryPolicy): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { redirect: "follow" });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new HttpStatusError(url, res.status);
      }
      return await res.text();
    } catch (e) {
      if (!isTransient(e) || attempt >= policy.attempts - 1) {
        throw new OmstackError("E_BUNDLE_FETCH", `cannot download ${url}: ${(e as Error).message}`, { remedy: "check the repo: URL and that the server is reachable from this build machine", cause: e });
      }
      await backoff(policy, attempt);
    }
  }
}

/** Downloads one repository chart into `dir`, verified; returns its entry and the verified file. */
export async function fetchRepoChart(ref: RepoChartRef, dir: string, policy: RetryPolicy = DEFAULT_RETRY): Promise<{ entry: ChartIndexEntry; file: string }> {
  const url = indexUrl(ref.repo);
  const entry = findChart(parseChartIndex(await fetchText(url, policy), url), ref);
  if (entry.digest === null) {
    if (!ref.sha256) throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${url} gives no sha256 digest for ${ref.name} ${ref.version}, and the recipe pins none`, { remedy: "add sha256: <64 hex> of the chart archive to the recipe's chart entry" });
  } else if (ref.sha256 && ref.sha256 !== entry.digest) {
    throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${url} gives ${ref.name} ${ref.version} the digest ${entry.digest}; the recipe pins ${ref.sha256}`, {
      remedy: "the repository now serves a different archive under the same version: check with its maintainers before changing sha256:",
    });
  }
  const got = await fetchVerified(chartDownloadUrl(entry, ref.repo), (entry.digest ?? ref.sha256)!, dir, policy);
  return { entry, file: got.path };
}
