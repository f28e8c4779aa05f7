// `bundle build`: gathers every piece a recipe names, verifies each, then writes the signed bundle in one pass
// through a temporary name. The same recipe and inputs always give the same bytes.
import { createHash, randomBytes, type KeyObject } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { OmstackError } from "../errors.js";
import { fetchRepoChart } from "./chart-repo.js";
import { fetchVerified, hashFile } from "./fetch.js";
import {
  BUNDLE_FORMAT_VERSION,
  MANIFEST_NAME,
  SIGNATURE_NAME,
  serializeManifest,
  type BundleChart,
  type BundleFile,
  type BundleImage,
  type BundleManifest,
  type BundlePackage,
} from "./manifest.js";
import { BlobStore, buildImageFromFolder, importFromLayout, layoutIndex, OCI_LAYOUT_FILE, platformString, tarFolder, type ImageParts } from "./oci.js";
import { comparePaths, pathProblem } from "./paths.js";
import { resolveBuildTime, type FileSource, type ImageSource, type Recipe } from "./recipe.js";
import { signManifest } from "./sign.js";
import { tarChunks, TarBodyMismatch, type TarEntry } from "./tar-write.js";

/** Pulls one image by digest from a registry into the store (see registry.ts); injected so tests can swap it. */
export type ImagePuller = (store: BlobStore, src: Extract<ImageSource, { kind: "registry" }>, platform: string) => Promise<ImageParts>;

/** What the builder needs besides the recipe. */
export interface BuildOptions {
  recipe: Recipe;
  key: KeyObject;
  out: string;
  env?: NodeJS.ProcessEnv;
  pull?: ImagePuller;
  /** Build a delta: only files the base bundle lacks (by path and sha256) go in; the rest are listed as inherited. */
  deltaFrom?: { manifest: BundleManifest; manifestSha256: string };
  note?(line: string): void;
}

/** What was written. */
export interface BuildResult {
  out: string;
  manifest: BundleManifest;
  manifestSha256: string;
  bytes: number;
}

/** One file ready to go into the archive: hashed already, opened again when written. */
interface Staged {
  path: string;
  mode: number;
  size: number;
  sha256: string;
  open(): Readable;
}

function sha256Hex(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

function fromBytes(path: string, mode: number, data: Buffer): Staged {
  return { path, mode, size: data.length, sha256: sha256Hex(data), open: () => Readable.from([data]) };
}

async function fromFile(path: string, mode: number, abs: string, what: string): Promise<Staged> {
  let h: { sha256: string; size: number };
  try {
    h = await hashFile(abs);
  } catch (e) {
    throw new OmstackError("E_BUNDLE_RECIPE", `${what}: cannot read ${abs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      remedy: "check the source: path (relative paths are resolved against the recipe's folder)",
      cause: e,
    });
  }
  return { path, mode, size: h.size, sha256: h.sha256, open: () => createReadStream(abs, { highWaterMark: 1 << 20 }) };
}

async function stageSource(path: string, mode: number, src: FileSource, downloads: string, what: string): Promise<Staged> {
  switch (src.kind) {
    case "content":
      return fromBytes(path, mode, Buffer.from(src.content));
    case "local":
      return fromFile(path, mode, src.path, what);
    case "url": {
      const got = await fetchVerified(src.url, src.sha256, downloads);
      return fromFile(path, mode, got.path, what);
    }
  }
}

/** Reads Chart.yaml and packages the folder as `<name>/...` in a deterministic .tgz, the layout `helm package` makes. */
async function packageChart(dir: string, mtime: number): Promise<{ chart: Omit<BundleChart, "sha256">; data: Buffer }> {
  let meta: Record<string, unknown>;
  try {
    meta = parseYaml(await readFile(join(dir, "Chart.yaml"), "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new OmstackError("E_BUNDLE_RECIPE", `${dir} is not a Helm chart folder (Chart.yaml unreadable: ${(e as Error).message})`, {
      remedy: "point charts[].path at a folder holding Chart.yaml",
      cause: e,
    });
  }
  const name = typeof meta?.name === "string" ? meta.name : "";
  const version = typeof meta?.version === "string" ? meta.version : "";
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !/^[0-9A-Za-z.+-]+$/.test(version)) {
    throw new OmstackError("E_BUNDLE_RECIPE", `${dir}/Chart.yaml needs a name (lower-case, digits, -) and a version string; found name "${name}", version "${version}"`, {
      remedy: "fix Chart.yaml (versions must be quoted if they look like numbers)",
    });
  }
  const data = gzipSync(await tarFolder(dir, mtime, `${name}/`), { level: 9 });
  const chart: Omit<BundleChart, "sha256"> = { name, version, path: `charts/${name}-${version}.tgz` };
  if (typeof meta.appVersion === "string") chart.appVersion = meta.appVersion;
  return { chart, data };
}

async function loadImage(store: BlobStore, name: string, src: ImageSource, platform: string, created: string, pull: ImagePuller | undefined): Promise<ImageParts> {
  switch (src.kind) {
    case "build":
      return buildImageFromFolder(store, src.context, platform, created, src.cmd);
    case "layout":
      return importFromLayout(store, src.path, src.digest ? { digest: src.digest } : { name }, platform);
    case "registry":
      if (!pull) throw new OmstackError("E_BUNDLE_FETCH", `image ${name} must be pulled from ${src.registry}, but no registry client is configured`, { remedy: "run through `omstack bundle build`" });
      return pull(store, src, platform);
  }
}

/** Computes every image's digest without writing a bundle (images.lock uses it). */
export async function resolveImages(recipe: Recipe, workDir: string, env: NodeJS.ProcessEnv, pull?: ImagePuller): Promise<{ name: string; parts: ImageParts }[]> {
  const store = new BlobStore(workDir);
  const created = resolveBuildTime(recipe, env);
  const out: { name: string; parts: ImageParts }[] = [];
  for (const im of recipe.images) out.push({ name: im.name, parts: await loadImage(store, im.name, im.source, `linux/${recipe.arch}`, created, pull) });
  return out;
}

function writeFailure(path: string, e: unknown): OmstackError {
  if (e instanceof OmstackError) return e;
  if (e instanceof TarBodyMismatch) {
    return new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${e.path} changed while the bundle was being written (${e.message})`, {
      remedy: "do not edit the recipe's inputs during a build; run the build again",
    });
  }
  const code = (e as NodeJS.ErrnoException).code;
  const full = code === "ENOSPC" || code === "EDQUOT";
  return new OmstackError("E_BUNDLE_WRITE", `cannot write ${path}: ${full ? "the disk is full" : (code ?? (e as Error).message)}`, {
    remedy: full ? "free space where --out points (a bundle needs its full size plus its downloads while building)" : "check that --out's folder exists and is writable",
    cause: e,
  });
}

/** The conventional file name of a bundle: `omstack-<version>-<arch>.tar`. */
export function bundleFileName(name: string, version: string, arch: string): string {
  return `${name}-${version}-${arch}.tar`;
}

/** Builds, signs and writes the bundle; the output appears under its final name only when complete. */
export async function buildBundle(opts: BuildOptions): Promise<BuildResult> {
  const { recipe } = opts;
  const env = opts.env ?? process.env;
  const buildTime = resolveBuildTime(recipe, env);
  const mtime = Math.floor(Date.parse(buildTime) / 1000);
  let out = resolve(opts.out);
  if (await stat(out).then((s) => s.isDirectory(), () => false)) out = join(out, bundleFileName(recipe.name, recipe.version, recipe.arch));
  const outDir = dirname(out);
  if (!(await stat(outDir).then((s) => s.isDirectory(), () => false))) {
    throw new OmstackError("E_BUNDLE_WRITE", `the folder for --out (${outDir}) does not exist`, { remedy: "create it first or choose another --out" });
  }
  const work = join(outDir, `.omstack-build-${randomBytes(6).toString("hex")}`);
  const tmpOut = join(outDir, `.${basename(out)}.partial-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(join(work, "downloads"), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw writeFailure(work, e);
  }
  try {
    const staged: Staged[] = [];
    const symlinks: { path: string; target: string }[] = [];
    for (const [i, f] of recipe.files.entries()) {
      if ("symlink" in f) symlinks.push({ path: f.path, target: f.symlink });
      else staged.push(await stageSource(f.path, f.mode, f.source, join(work, "downloads"), `files[${i}] ${f.path}`));
    }

    const packages: Record<string, BundlePackage[]> = {};
    for (const [family, list] of Object.entries(recipe.packages)) {
      packages[family] = [];
      for (const p of list) {
        const fileName = p.source.kind === "local" ? basename(p.source.path) : p.source.kind === "url" ? basename(new URL(p.source.url).pathname) || `${p.name}_${p.version}` : `${p.name}_${p.version}`;
        const path = `packages/${family}/${fileName}`;
        // A name the bundle's own path rules refuse (apt's cache writes `conntrack_1%3a1.4.7…`) would build a bundle
        // that `bundle verify` rejects: refuse it here, before anything is fetched.
        const problem = pathProblem(path);
        if (problem) {
          throw new OmstackError("E_BUNDLE_RECIPE", `packages.${family} ${p.name}: the file name ${JSON.stringify(fileName)} cannot be a bundle path (${problem})`, {
            remedy: "rename or link the file to a name of letters, digits and ._+@=:,~- only (e.g. dpkg's own conntrack_1:1.4.7-1+b2_amd64.deb)",
          });
        }
        staged.push(await stageSource(path, 0o644, p.source, join(work, "downloads"), `packages.${family} ${p.name}`));
        packages[family].push({ name: p.name, version: p.version, path });
      }
    }

    const charts: BundleChart[] = [];
    for (const c of recipe.charts) {
      if ("repo" in c) {
        opts.note?.(`chart ${c.name} ${c.version} from ${c.repo}`);
        const { entry, file } = await fetchRepoChart(c, join(work, "downloads"));
        const path = `charts/${entry.name}-${entry.version}.tgz`;
        const s = await fromFile(path, 0o644, file, `charts ${c.name} ${c.version}`);
        staged.push(s);
        charts.push({ name: entry.name, version: entry.version, ...(entry.appVersion ? { appVersion: entry.appVersion } : {}), path, sha256: s.sha256 });
        continue;
      }
      const { chart, data } = await packageChart(c.path, mtime);
      const s = fromBytes(chart.path, 0o644, data);
      staged.push(s);
      charts.push({ ...chart, sha256: s.sha256 });
    }

    const store = new BlobStore(work);
    const images: BundleImage[] = [];
    const layoutImages: { name: string; parts: ImageParts }[] = [];
    const blobs = new Set<string>();
    const platform = `linux/${recipe.arch}`;
    for (const im of recipe.images) {
      opts.note?.(`image ${im.name}`);
      const parts = await loadImage(store, im.name, im.source, platform, buildTime, opts.pull);
      layoutImages.push({ name: im.name, parts });
      const needed = [parts.config.digest, ...parts.layers.map((l) => l.digest)];
      for (const d of [parts.manifestDigest, ...needed]) blobs.add(d);
      images.push({
        name: im.name,
        digest: parts.manifestDigest,
        ...(im.source.kind === "registry" && im.source.digest !== parts.manifestDigest ? { indexDigest: im.source.digest } : {}),
        platform: platformString(parts.platform),
        size: parts.manifestBytes.length + parts.config.size + parts.layers.reduce((n, l) => n + l.size, 0),
        blobs: [...new Set(needed)].sort(comparePaths),
      });
    }
    images.sort((a, b) => comparePaths(a.name, b.name));
    if (recipe.images.length > 0) {
      staged.push(fromBytes("images/oci-layout", 0o644, OCI_LAYOUT_FILE));
      staged.push(fromBytes("images/index.json", 0o644, layoutIndex(layoutImages)));
      for (const d of blobs) staged.push(await fromFile(`images/blobs/sha256/${d.slice(7)}`, 0o644, store.pathOf(d), `blob ${d}`));
    }

    const base = opts.deltaFrom;
    if (base?.manifest.delta) {
      throw new OmstackError("E_USAGE", `--delta-from needs a full bundle; ${base.manifest.name} ${base.manifest.version} is itself a delta`, {
        remedy: "pass the full bundle the cluster was installed or last fully upgraded from",
      });
    }
    const inBase = new Map((base?.manifest.files ?? []).map((f) => [f.path, f]));
    const same = (s: Staged) => {
      const f = inBase.get(s.path);
      return f !== undefined && f.sha256 === s.sha256 && f.mode === s.mode;
    };
    const kept = staged.filter((s) => !same(s));
    const inherited = staged.filter(same).map((s) => ({ path: s.path, size: s.size, sha256: s.sha256, mode: s.mode }));
    inherited.sort((a, b) => comparePaths(a.path, b.path));
    kept.sort((a, b) => comparePaths(a.path, b.path));
    symlinks.sort((a, b) => comparePaths(a.path, b.path));
    const files: BundleFile[] = kept.map((s) => ({ path: s.path, size: s.size, sha256: s.sha256, mode: s.mode }));
    const manifest: BundleManifest = {
      formatVersion: BUNDLE_FORMAT_VERSION,
      name: recipe.name,
      version: recipe.version,
      arch: recipe.arch,
      buildTime,
      components: recipe.components,
      ...(base ? { delta: { fromVersion: base.manifest.version, fromManifestSha256: base.manifestSha256, inherited } } : {}),
      files,
      symlinks,
      images,
      charts,
      packages,
    };
    const manifestBytes = serializeManifest(manifest);
    const sig = signManifest(manifestBytes, opts.key);

    // every entry of the archive, in order: bundle.json, bundle.json.sig, then files and links by path
    const entries: TarEntry[] = [
      { type: "file", path: MANIFEST_NAME, mode: 0o644, size: manifestBytes.length, open: () => Readable.from([manifestBytes]) },
      { type: "file", path: SIGNATURE_NAME, mode: 0o644, size: sig.length, open: () => Readable.from([sig]) },
      ...[...kept.map((s) => ({ key: s.path, e: { type: "file", path: s.path, mode: s.mode, size: s.size, sha256: s.sha256, open: s.open } as TarEntry })), ...symlinks.map((l) => ({ key: l.path, e: { type: "symlink", path: l.path, target: l.target } as TarEntry }))]
        .sort((a, b) => comparePaths(a.key, b.key))
        .map((x) => x.e),
    ];
    opts.note?.(`writing ${out}`);
    try {
      await pipeline(Readable.from(tarChunks(entries, { mtime })), createWriteStream(tmpOut, { flags: "wx", mode: 0o644 }));
      await rename(tmpOut, out);
    } catch (e) {
      throw writeFailure(out, e);
    }
    const size = (await stat(out)).size;
    return { out, manifest, manifestSha256: sha256Hex(manifestBytes), bytes: size };
  } finally {
    await rm(tmpOut, { force: true });
    await rm(work, { recursive: true, force: true });
  }
}
