// bundle.json: the one description of a bundle. Pure: parse, validate and serialize; docs/bundle.md is the spec.
import { OmstackError } from "../errors.js";
import { comparePaths, pathProblem, resolveLinkTarget } from "./paths.js";

/** The format this code writes and the only one it reads. */
export const BUNDLE_FORMAT_VERSION = 1;
/** Reserved names: always the first two archive entries, never listed in `files`. */
export const MANIFEST_NAME = "bundle.json";
export const SIGNATURE_NAME = "bundle.json.sig";
/** bundle.json is read into memory; anything larger is refused before parsing. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** A regular file carried in the bundle. */
export interface BundleFile {
  path: string;
  size: number;
  sha256: string;
  mode: number; // 420 (0644) or 493 (0755)
}

/** A relative symbolic link carried in the bundle; its target stays inside the bundle. */
export interface BundleSymlink {
  path: string;
  target: string;
}

/** One image in images/ (an OCI image layout), pinned by the digest of its platform manifest. */
export interface BundleImage {
  name: string; // registry/repository:tag the platform runs, e.g. docker.io/library/nginx:1.27
  digest: string; // sha256:<hex> of the image manifest stored in images/
  indexDigest?: string; // digest the recipe pinned when it was a multi-platform index
  platform: string; // os/arch[/variant]
  size: number; // manifest + config + layers, bytes
  blobs: string[]; // every blob the image needs (config and layers), sorted
}

/** One Helm chart archive in charts/. */
export interface BundleChart {
  name: string;
  version: string;
  appVersion?: string;
  path: string;
  sha256: string;
}

/** One host package in packages/<family>/. */
export interface BundlePackage {
  name: string;
  version: string;
  path: string;
}

/** Present only in delta bundles: which bundle this one extends, and the files taken from it unchanged. */
export interface BundleDelta {
  fromVersion: string;
  fromManifestSha256: string;
  inherited: BundleFile[];
}

/** The parsed bundle.json. */
export interface BundleManifest {
  formatVersion: number;
  name: string;
  version: string;
  arch: string;
  buildTime: string; // ISO 8601 UTC, second precision
  components: Record<string, string>;
  delta?: BundleDelta;
  files: BundleFile[];
  symlinks: BundleSymlink[];
  images: BundleImage[];
  charts: BundleChart[];
  packages: Record<string, BundlePackage[]>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;
const ARCH = /^[a-z0-9_]+$/;

function malformed(detail: string): OmstackError {
  return new OmstackError("E_BUNDLE_MALFORMED", `bundle.json is invalid: ${detail}`, {
    remedy: "rebuild the bundle with `omstack bundle build`, or get an intact copy from where it was published",
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function str(o: Record<string, unknown>, k: string, where: string): string {
  const v = o[k];
  if (typeof v !== "string" || v.length === 0) throw malformed(`${where}.${k} must be a non-empty string`);
  return v;
}
function int(o: Record<string, unknown>, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw malformed(`${where}.${k} must be a non-negative integer`);
  return v;
}
function arr(o: Record<string, unknown>, k: string, where: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw malformed(`${where}.${k} must be a list`);
  return v;
}

/** Parses and checks bundle.json bytes: every rule in docs/bundle.md §bundle.json, so later code can trust the shape. */
export function parseManifest(bytes: Buffer): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw malformed(`not JSON (${(e as Error).message})`);
  }
  if (!isObj(raw)) throw malformed("the top level must be an object");
  const fv = raw.formatVersion;
  if (fv !== BUNDLE_FORMAT_VERSION) {
    throw new OmstackError("E_BUNDLE_MALFORMED", `bundle format version ${String(fv)} found; this omstack reads format ${BUNDLE_FORMAT_VERSION}`, {
      remedy: "use the omstack release that matches the bundle, or rebuild the bundle with this release",
    });
  }
  const m: BundleManifest = {
    formatVersion: fv,
    name: str(raw, "name", "bundle"),
    version: str(raw, "version", "bundle"),
    arch: str(raw, "arch", "bundle"),
    buildTime: str(raw, "buildTime", "bundle"),
    components: {},
    files: [],
    symlinks: [],
    images: [],
    charts: [],
    packages: {},
  };
  if (!VERSION.test(m.version)) throw malformed(`version "${m.version}" has characters outside [0-9A-Za-z.+_-]`);
  if (!ARCH.test(m.arch)) throw malformed(`arch "${m.arch}" must be lower-case letters, digits or _`);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(m.buildTime)) throw malformed(`buildTime "${m.buildTime}" must look like 2025-01-31T12:00:00Z`);
  if (!isObj(raw.components)) throw malformed("components must be an object of name → version");
  for (const [k, v] of Object.entries(raw.components)) {
    if (typeof v !== "string") throw malformed(`components.${k} must be a string`);
    m.components[k] = v;
  }
  const seen = new Set<string>([]);
  const claim = (p: string, where: string): void => {
    const problem = pathProblem(p);
    if (problem) throw malformed(`${where} path "${p}": ${problem}`);
    if (p === MANIFEST_NAME || p === SIGNATURE_NAME) throw malformed(`${where} lists the reserved name ${p}`);
    if (seen.has(p)) throw malformed(`${where} lists "${p}" twice`);
    seen.add(p);
  };
  const fileAt = (f: unknown, w: string): BundleFile => {
    if (!isObj(f)) throw malformed(`${w} must be an object`);
    const file: BundleFile = { path: str(f, "path", w), size: int(f, "size", w), sha256: str(f, "sha256", w), mode: int(f, "mode", w) };
    claim(file.path, w);
    if (!SHA256_HEX.test(file.sha256)) throw malformed(`${w}.sha256 must be 64 lower-case hex digits`);
    if (file.mode !== 0o644 && file.mode !== 0o755) throw malformed(`${w}.mode must be 420 (0644) or 493 (0755)`);
    return file;
  };
  arr(raw, "files", "bundle").forEach((f, i) => m.files.push(fileAt(f, `files[${i}]`)));
  if (raw.delta !== undefined) {
    if (!isObj(raw.delta)) throw malformed("delta must be an object");
    const fromManifestSha256 = str(raw.delta, "fromManifestSha256", "delta");
    if (!SHA256_HEX.test(fromManifestSha256)) throw malformed("delta.fromManifestSha256 must be 64 lower-case hex digits");
    const inherited = arr(raw.delta, "inherited", "delta").map((f, i) => fileAt(f, `delta.inherited[${i}]`));
    m.delta = { fromVersion: str(raw.delta, "fromVersion", "delta"), fromManifestSha256, inherited };
  }
  arr(raw, "symlinks", "bundle").forEach((l, i) => {
    const w = `symlinks[${i}]`;
    if (!isObj(l)) throw malformed(`${w} must be an object`);
    const link: BundleSymlink = { path: str(l, "path", w), target: str(l, "target", w) };
    claim(link.path, w);
    if (resolveLinkTarget(link.path, link.target) === null) throw malformed(`${w} "${link.path}" points outside the bundle (${link.target})`);
    m.symlinks.push(link);
  });
  // no listed path may sit under another listed path (a file or link used as a folder)
  for (const p of seen) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (seen.has(parent)) throw malformed(`"${p}" sits under "${parent}", which is a file or link`);
    }
  }
  const sortedOk = (xs: { path: string }[]) => xs.every((x, i) => i === 0 || comparePaths(xs[i - 1]!.path, x.path) < 0);
  if (!sortedOk(m.files) || !sortedOk(m.symlinks) || !sortedOk(m.delta?.inherited ?? [])) throw malformed("files, symlinks and delta.inherited must be sorted by path (bytewise)");
  // what the complete bundle holds: its own files plus, for a delta, those inherited from the base bundle
  const filePaths = new Map(allFiles(m).map((f) => [f.path, f]));
  arr(raw, "images", "bundle").forEach((im, i) => {
    const w = `images[${i}]`;
    if (!isObj(im)) throw malformed(`${w} must be an object`);
    const blobs = arr(im, "blobs", w).map((b) => {
      if (typeof b !== "string" || !DIGEST.test(b)) throw malformed(`${w}.blobs must be sha256:<hex> digests`);
      return b;
    });
    const image: BundleImage = {
      name: str(im, "name", w),
      digest: str(im, "digest", w),
      platform: str(im, "platform", w),
      size: int(im, "size", w),
      blobs,
    };
    if (im.indexDigest !== undefined) image.indexDigest = str(im, "indexDigest", w);
    for (const d of [image.digest, image.indexDigest].filter((x): x is string => x !== undefined)) {
      if (!DIGEST.test(d)) throw malformed(`${w} digest ${d} must be sha256:<64 hex>`);
    }
    for (const d of [image.digest, ...blobs]) {
      if (!filePaths.has(`images/blobs/sha256/${d.slice(7)}`)) throw malformed(`${w} (${image.name}) needs blob ${d}, which files does not list`);
    }
    m.images.push(image);
  });
  arr(raw, "charts", "bundle").forEach((c, i) => {
    const w = `charts[${i}]`;
    if (!isObj(c)) throw malformed(`${w} must be an object`);
    const chart: BundleChart = { name: str(c, "name", w), version: str(c, "version", w), path: str(c, "path", w), sha256: str(c, "sha256", w) };
    if (c.appVersion !== undefined) chart.appVersion = str(c, "appVersion", w);
    if (!filePaths.has(chart.path)) throw malformed(`${w} (${chart.name}) points at ${chart.path}, which files does not list`);
    m.charts.push(chart);
  });
  if (!isObj(raw.packages)) throw malformed("packages must be an object of OS family → list");
  for (const [family, list] of Object.entries(raw.packages)) {
    if (!Array.isArray(list)) throw malformed(`packages.${family} must be a list`);
    m.packages[family] = list.map((p, i) => {
      const w = `packages.${family}[${i}]`;
      if (!isObj(p)) throw malformed(`${w} must be an object`);
      const pkg: BundlePackage = { name: str(p, "name", w), version: str(p, "version", w), path: str(p, "path", w) };
      if (!filePaths.has(pkg.path)) throw malformed(`${w} (${pkg.name}) points at ${pkg.path}, which files does not list`);
      return pkg;
    });
  }
  return m;
}

/** The exact bytes of bundle.json: fixed key order, two-space indent, trailing newline (this is what is signed). */
export function serializeManifest(m: BundleManifest): Buffer {
  const ordered = {
    formatVersion: m.formatVersion,
    name: m.name,
    version: m.version,
    arch: m.arch,
    buildTime: m.buildTime,
    components: Object.fromEntries(Object.entries(m.components).sort(([a], [b]) => comparePaths(a, b))),
    ...(m.delta
      ? {
          delta: {
            fromVersion: m.delta.fromVersion,
            fromManifestSha256: m.delta.fromManifestSha256,
            inherited: m.delta.inherited.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, mode: f.mode })),
          },
        }
      : {}),
    images: m.images.map((i) => ({
      name: i.name,
      digest: i.digest,
      ...(i.indexDigest ? { indexDigest: i.indexDigest } : {}),
      platform: i.platform,
      size: i.size,
      blobs: i.blobs,
    })),
    charts: m.charts.map((c) => ({ name: c.name, version: c.version, ...(c.appVersion ? { appVersion: c.appVersion } : {}), path: c.path, sha256: c.sha256 })),
    packages: Object.fromEntries(
      Object.entries(m.packages)
        .sort(([a], [b]) => comparePaths(a, b))
        .map(([fam, list]) => [fam, list.map((p) => ({ name: p.name, version: p.version, path: p.path }))]),
    ),
    files: m.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, mode: f.mode })),
    symlinks: m.symlinks.map((l) => ({ path: l.path, target: l.target })),
  };
  return Buffer.from(JSON.stringify(ordered, null, 2) + "\n");
}

/** Every file of the complete bundle: the ones carried plus, for a delta, the ones inherited; sorted by path. */
export function allFiles(m: BundleManifest): BundleFile[] {
  return m.delta ? [...m.files, ...m.delta.inherited].sort((a, b) => comparePaths(a.path, b.path)) : m.files;
}

/** Total bytes of the files a bundle carries. */
export function totalSize(m: BundleManifest): number {
  return m.files.reduce((n, f) => n + f.size, 0);
}
