// Default bundle check until the bundle module's own verifier is wired in: a .tar.gz whose manifest.json
// lists every file with its SHA-256; anything missing, extra, altered, unsafe or truncated is refused.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Parser, type ReadEntry } from "tar";
import { OmstackError } from "../../errors.js";
import type { BundleVerifier, VerifiedBundle } from "../ports.js";

/** manifest.json at the archive root. */
export interface BundleManifest {
  name: string;
  version: string;
  components: Record<string, string>;
  files: Record<string, string>;
}

const invalid = (path: string, why: string) =>
  new OmstackError("E_ADMIN_BUNDLE_INVALID", `the bundle ${path} failed verification: ${why}`, {
    remedy: "copy the bundle again from the release medium and compare its SHA-256 with the published one; nothing was applied",
  });

/** Verifies manifest + per-file SHA-256 of a .tar.gz bundle. */
export class ManifestBundleVerifier implements BundleVerifier {
  async verify(path: string): Promise<VerifiedBundle> {
    const whole = createHash("sha256");
    const hashes = new Map<string, string>();
    let manifestText: string | null = null;
    const problems: string[] = [];
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const name = entry.path.replace(/^\.\//, "");
        if (name.startsWith("/") || name.split("/").includes("..")) problems.push(`unsafe path ${JSON.stringify(entry.path)} in the archive`);
        if (entry.type !== "File" && entry.type !== "Directory") problems.push(`entry ${name} is a ${entry.type}; only files and directories are allowed`);
        const h = createHash("sha256");
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => {
          h.update(c);
          if (name === "manifest.json" && chunks.length < 1024) chunks.push(c);
        });
        entry.on("end", () => {
          if (entry.type !== "File") return;
          hashes.set(name, h.digest("hex"));
          if (name === "manifest.json") manifestText = Buffer.concat(chunks).toString("utf8");
        });
      },
    });
    try {
      const src = createReadStream(path);
      src.on("data", (c) => whole.update(c));
      await pipeline(src, parser);
    } catch (e) {
      throw invalid(path, `the archive could not be read to the end (${(e as Error).message}); it is truncated or not a .tar.gz`);
    }
    if (problems.length) throw invalid(path, problems.join("; "));
    if (manifestText === null) throw invalid(path, "manifest.json is missing at the archive root");
    const manifest = parseManifest(manifestText, path);
    for (const [file, sum] of Object.entries(manifest.files)) {
      const got = hashes.get(file);
      if (got === undefined) problems.push(`${file} is listed in the manifest but missing`);
      else if (got !== sum.toLowerCase()) problems.push(`${file} has SHA-256 ${got}, the manifest says ${sum}`);
    }
    for (const file of hashes.keys()) if (file !== "manifest.json" && !(file in manifest.files)) problems.push(`${file} is not listed in the manifest`);
    if (problems.length) throw invalid(path, problems.join("; "));
    const size = (await stat(path)).size;
    return { name: manifest.name, version: manifest.version, components: manifest.components, sha256: whole.digest("hex"), sizeBytes: size };
  }
}

function parseManifest(text: string, path: string): BundleManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw invalid(path, `manifest.json is not valid JSON (${(e as Error).message})`);
  }
  const o = m as Partial<BundleManifest>;
  const isMap = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x) && Object.values(x).every((v) => typeof v === "string");
  if (typeof o.name !== "string" || typeof o.version !== "string" || !isMap(o.components) || !isMap(o.files)) {
    throw invalid(path, "manifest.json needs string name and version, and objects components {name: version} and files {path: sha256}");
  }
  return o as BundleManifest;
}
