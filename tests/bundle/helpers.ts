// Shared by the bundle integration tests: temp folders, the test recipe, a CLI runner and a crafter of tampered bundles.
import { execFile } from "node:child_process";
import { createHash, type KeyObject } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { buildBundle, type BuildResult } from "../../installer/src/bundle/build.js";
import { serializeManifest, type BundleManifest } from "../../installer/src/bundle/manifest.js";
import { parseRecipe, type Recipe } from "../../installer/src/bundle/recipe.js";
import { generateKeyFiles, loadPrivateKey, loadPublicKey, signManifest } from "../../installer/src/bundle/sign.js";
import { entryHeaders, tarChunks, type TarEntry } from "../../installer/src/bundle/tar-write.js";

export const REPO = resolve(import.meta.dirname, "../..");
export const TEST_RECIPE = join(REPO, "bundle/recipes/test.yaml");

/** A fresh folder under the system temp dir. */
export function tempDir(prefix = "omstack-bundle-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every name in a folder (to prove nothing else was written). */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A key pair in `dir`: paths and loaded keys. */
export async function keys(dir: string, name = "key"): Promise<{ path: string; pub: string; priv: KeyObject; pubKey: KeyObject }> {
  const path = join(dir, name);
  await generateKeyFiles(path);
  return { path, pub: `${path}.pub`, priv: await loadPrivateKey(path), pubKey: await loadPublicKey(`${path}.pub`) };
}

/** The test recipe, optionally changed. */
export function testRecipe(patch: (r: Recipe) => void = () => undefined): Recipe {
  const r = parseRecipe(readFileSync(TEST_RECIPE, "utf8"), TEST_RECIPE);
  patch(r);
  return r;
}

/** Builds the test recipe into `out`. */
export async function buildTest(out: string, key: KeyObject, patch?: (r: Recipe) => void, env: NodeJS.ProcessEnv = {}): Promise<BuildResult> {
  return buildBundle({ recipe: testRecipe(patch), key, out, env });
}

/** Runs the built CLI (installer/dist) and returns its exit code and output. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(REPO, "bin/omstack.js"), ...args], { env: { ...process.env, NO_COLOR: "1", OMSTACK_LOG_DIR: join(tmpdir(), "omstack-test-logs"), ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** sha256 hex of bytes. */
export function sha(b: Buffer | string): string {
  return createHash("sha256").update(b).digest("hex");
}

/** A raw header for special entry types (hard link, device, FIFO) our writer never makes: patch type flag + checksum. */
export function rawHeader(path: string, typeflag: string, linkname = ""): Buffer {
  const [h] = entryHeaders({ type: "file", path, mode: 0o644, size: 0, open: () => Readable.from([]) }, { mtime: 0 });
  const b = Buffer.from(h!);
  b.write(typeflag, 156, 1, "ascii");
  b.fill(0, 157, 257);
  b.write(linkname, 157, 100, "utf8");
  b.write("        ", 148, 8, "ascii");
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return b;
}

/** Bytes of a file entry. */
export function fileEntry(path: string, data: Buffer | string, mode = 0o644): TarEntry {
  const b = Buffer.from(data);
  return { type: "file", path, mode, size: b.length, open: () => Readable.from([b]) };
}

/**
 * Writes a bundle by hand: `manifest` signed with `key` (unless sig is false), then `entries` verbatim; `extra` raw
 * byte blocks are appended before the end-of-archive blocks. Lets tests make every tampered variant.
 */
export async function craft(out: string, opts: { manifest: BundleManifest; key?: KeyObject; sig?: boolean; entries: TarEntry[]; extra?: Buffer[] }): Promise<void> {
  const mbytes = serializeManifest(opts.manifest);
  const head: TarEntry[] = [fileEntry("bundle.json", mbytes)];
  if (opts.sig !== false && opts.key) head.push(fileEntry("bundle.json.sig", signManifest(mbytes, opts.key)));
  const parts: Buffer[] = [];
  for await (const c of tarChunks([...head, ...opts.entries], { mtime: 0 })) parts.push(c);
  const body = Buffer.concat(parts);
  const endBlocks = body.subarray(body.length - 1024);
  writeFileSync(out, Buffer.concat([body.subarray(0, body.length - 1024), ...(opts.extra ?? []), endBlocks]));
}

/** A minimal signed-bundle manifest listing the given files. */
export function manifestFor(files: { path: string; data: Buffer | string; mode?: number }[], symlinks: { path: string; target: string }[] = []): BundleManifest {
  return {
    formatVersion: 1,
    name: "omstack",
    version: "0.0.1",
    arch: "amd64",
    buildTime: "2025-01-01T00:00:00Z",
    components: {},
    files: files.map((f) => ({ path: f.path, size: Buffer.from(f.data).length, sha256: sha(Buffer.from(f.data)), mode: f.mode ?? 0o644 })),
    symlinks,
    images: [],
    charts: [],
    packages: {},
  };
}
