// The bundle an install runs from: verified and extracted once into the state directory, reused by later runs of the
// same bundle (its signature is checked again each time), and offered to steps as BundleParts.
import { createHash, type KeyObject } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { OmstackError } from "../errors.js";
import { extractBundle } from "../bundle/extract.js";
import { allFiles, MANIFEST_NAME, type BundleManifest } from "../bundle/manifest.js";
import { verifyManifestSignature } from "../bundle/sign.js";
import { readBundleHead } from "../bundle/verify.js";
import type { BundleParts } from "../steps/bundleParts.js";

/** Where bundles are extracted under the state directory. */
export const BUNDLES_SUBDIR = "bundles";

/** The parts of an extracted bundle folder, from its manifest. */
export function bundlePartsOf(dir: string, manifest: BundleManifest): BundleParts {
  const files = new Map(allFiles(manifest).map((f) => [f.path, f]));
  return {
    version: manifest.version,
    part(path) {
      const f = files.get(path);
      return f ? { path, source: join(dir, path), sha256: f.sha256, size: f.size, mode: f.mode } : null;
    },
    images: manifest.images.map((i) => ({ name: i.name, digest: i.digest, blobs: i.blobs })),
    charts: manifest.charts.map((c) => ({ name: c.name, version: c.version, path: c.path })),
    packages: manifest.packages,
  };
}

/** Checks the signature, extracts (first time) into STATE/bundles/<version>-<manifest sha>, and returns the parts. */
export async function openInstallBundle(file: string, trusted: KeyObject[], stateDir: string, note: (line: string) => void): Promise<{ dir: string; parts: BundleParts; manifest: BundleManifest }> {
  const head = await readBundleHead(file);
  if (!head.signature) throw new OmstackError("E_BUNDLE_UNSIGNED", `${file} carries no signature`, { remedy: "install only from a bundle made by `omstack bundle build` (it signs)" });
  verifyManifestSignature(head.manifestBytes, head.signature, trusted);
  const id = createHash("sha256").update(head.manifestBytes).digest("hex").slice(0, 12);
  const dir = join(stateDir, BUNDLES_SUBDIR, `${head.manifest.version.replace(/[^A-Za-z0-9._+-]/g, "_")}-${id}`);
  const existing = await readFile(join(dir, MANIFEST_NAME)).catch(() => null);
  if (existing && existing.equals(head.manifestBytes)) {
    note(`bundle ${head.manifest.version}: using ${dir} (extracted and verified earlier)`);
  } else {
    if (existing) throw new OmstackError("E_BUNDLE_TARGET_EXISTS", `${dir} holds another bundle's files`, { remedy: `remove ${dir} and run again` });
    note(`bundle ${head.manifest.version}: verifying and extracting into ${dir}`);
    await mkdir(join(stateDir, BUNDLES_SUBDIR), { recursive: true, mode: 0o700 });
    await extractBundle(file, dir, { trusted });
  }
  return { dir, parts: bundlePartsOf(dir, head.manifest), manifest: head.manifest };
}
