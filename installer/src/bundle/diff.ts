// Pure comparisons of two bundle.json listings: the input of upgrades and of `bundle diff`.
import { allFiles, type BundleManifest } from "./manifest.js";
import { comparePaths } from "./paths.js";

/** A named thing that exists in A, B or both with different values. */
export interface Change<T> {
  key: string;
  from?: T;
  to?: T;
}

/** Everything that differs between two bundles, sorted by key. */
export interface BundleDiff {
  from: { name: string; version: string; arch: string };
  to: { name: string; version: string; arch: string };
  components: { added: Change<string>[]; removed: Change<string>[]; changed: Change<string>[] };
  images: { added: Change<string>[]; removed: Change<string>[]; changed: Change<string>[] };
  charts: { added: Change<string>[]; removed: Change<string>[]; changed: Change<string>[] };
  files: { added: Change<number>[]; removed: Change<number>[]; changed: Change<number>[] };
  identical: boolean;
}

function compare<T>(a: Map<string, T>, b: Map<string, T>, same: (x: T, y: T) => boolean): { added: Change<T>[]; removed: Change<T>[]; changed: Change<T>[] } {
  const added: Change<T>[] = [];
  const removed: Change<T>[] = [];
  const changed: Change<T>[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) removed.push({ key: k, from: v });
    else if (!same(v, w)) changed.push({ key: k, from: v, to: w });
  }
  for (const [k, w] of b) if (!a.has(k)) added.push({ key: k, to: w });
  const byKey = (x: Change<T>, y: Change<T>) => comparePaths(x.key, y.key);
  return { added: added.sort(byKey), removed: removed.sort(byKey), changed: changed.sort(byKey) };
}

/** What changes when going from bundle A to bundle B. */
export function diffManifests(a: BundleManifest, b: BundleManifest): BundleDiff {
  const components = compare(new Map(Object.entries(a.components)), new Map(Object.entries(b.components)), (x, y) => x === y);
  const images = compare(new Map(a.images.map((i) => [i.name, i.digest])), new Map(b.images.map((i) => [i.name, i.digest])), (x, y) => x === y);
  const charts = compare(new Map(a.charts.map((c) => [c.name, c.version])), new Map(b.charts.map((c) => [c.name, c.version])), (x, y) => x === y);
  const fa = new Map(allFiles(a).map((f) => [f.path, f]));
  const fb = new Map(allFiles(b).map((f) => [f.path, f]));
  const filesRaw = compare(fa, fb, (x, y) => x.sha256 === y.sha256 && x.mode === y.mode);
  const size = (c: Change<{ size: number }>): Change<number> => ({ key: c.key, ...(c.from ? { from: c.from.size } : {}), ...(c.to ? { to: c.to.size } : {}) });
  const files = { added: filesRaw.added.map(size), removed: filesRaw.removed.map(size), changed: filesRaw.changed.map(size) };
  const empty = (g: { added: unknown[]; removed: unknown[]; changed: unknown[] }) => g.added.length + g.removed.length + g.changed.length === 0;
  return {
    from: { name: a.name, version: a.version, arch: a.arch },
    to: { name: b.name, version: b.version, arch: b.arch },
    components,
    images,
    charts,
    files,
    identical: [components, images, charts, files].every(empty),
  };
}

/** Human rendering of a diff: one line per change, `+` added, `-` removed, `~` changed. */
export function renderDiff(d: BundleDiff): string {
  const lines = [`${d.from.name} ${d.from.version} (${d.from.arch}) → ${d.to.name} ${d.to.version} (${d.to.arch})`];
  if (d.identical) return lines.concat("no differences in components, images, charts or files", "").join("\n");
  const section = <T>(title: string, g: { added: Change<T>[]; removed: Change<T>[]; changed: Change<T>[] }, show: (v: T | undefined) => string) => {
    if (g.added.length + g.removed.length + g.changed.length === 0) return;
    lines.push(`${title}:`);
    for (const c of g.added) lines.push(`  + ${c.key} ${show(c.to)}`);
    for (const c of g.removed) lines.push(`  - ${c.key} ${show(c.from)}`);
    for (const c of g.changed) lines.push(`  ~ ${c.key} ${show(c.from)} → ${show(c.to)}`);
  };
  section("components", d.components, (v) => v ?? "");
  section("images", d.images, (v) => (v ? v.slice(0, 19) : ""));
  section("charts", d.charts, (v) => v ?? "");
  section("files", d.files, (v) => (v === undefined ? "" : `${v} B`));
  return lines.join("\n") + "\n";
}
