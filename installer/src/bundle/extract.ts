// Safe extraction for install and upgrade: verifies while writing into a hidden temporary folder beside the target,
// and renames it into place only when every entry checked out. A failure leaves nothing that looks complete.
// A delta bundle is completed from the folder of its base bundle, each inherited file checked on the way.
import { createHash, randomBytes, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, symlink, writeFile, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { OmstackError } from "../errors.js";
import { MANIFEST_NAME, SIGNATURE_NAME, type BundleFile, type BundleManifest } from "./manifest.js";
import { scanBundle, type FileSink, type VerifyResult } from "./verify.js";

/** Options for extracting a bundle. */
export interface ExtractOptions {
  trusted: KeyObject[];
  /** For a delta bundle: the folder its base bundle was extracted to. */
  base?: string;
  onProgress?(bytes: number): void;
}

function writeError(path: string, e: unknown): OmstackError {
  if (e instanceof OmstackError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const full = code === "ENOSPC" || code === "EDQUOT";
  return new OmstackError("E_BUNDLE_WRITE", `cannot write ${path}: ${full ? "the disk is full" : (code ?? (e as Error).message)}`, {
    remedy: full ? "free space on that filesystem (the bundle's size is shown by `omstack bundle inspect`) and run again" : "check the target folder's permissions",
    cause: e,
  });
}

/** Writes all of `chunk`: write() may store fewer bytes than asked on a nearly full disk. */
async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    if (bytesWritten === 0) throw Object.assign(new Error("no progress writing"), { code: "ENOSPC" });
    off += bytesWritten;
  }
}

/** Creates `abs` exclusively and returns a sink that writes into it. */
async function createSink(abs: string, mode: number): Promise<FileSink> {
  let fh: FileHandle;
  try {
    await mkdir(dirname(abs), { recursive: true, mode: 0o755 });
    fh = await open(abs, "wx", mode);
  } catch (e) {
    throw writeError(abs, e);
  }
  return {
    async write(chunk) {
      try {
        await writeAll(fh, chunk);
      } catch (e) {
        throw writeError(abs, e);
      }
    },
    async close() {
      try {
        await fh.chmod(mode);
        await fh.close();
      } catch (e) {
        throw writeError(abs, e);
      }
    },
    async abort() {
      await fh.close().catch(() => undefined);
    },
  };
}

/** Checks that `base` holds the bundle a delta was built against. */
async function checkBase(m: BundleManifest, base: string | undefined, file: string): Promise<string> {
  const delta = m.delta!;
  if (!base) {
    throw new OmstackError("E_BUNDLE_DELTA_BASE", `${file} is a delta from ${m.name} ${delta.fromVersion}; it needs that bundle's extracted folder`, {
      remedy: "pass the folder the base bundle was extracted to (`--base DIR`)",
    });
  }
  const bytes = await readFile(join(base, MANIFEST_NAME)).catch(() => null);
  const got = bytes ? createHash("sha256").update(bytes).digest("hex") : "none";
  if (got !== delta.fromManifestSha256) {
    throw new OmstackError("E_BUNDLE_DELTA_BASE", `${base} does not hold the base of ${file}: its bundle.json sha256 is ${got}, the delta needs ${delta.fromManifestSha256}`, {
      remedy: `pass the folder extracted from ${m.name} ${delta.fromVersion}`,
    });
  }
  return resolve(base);
}

/** Copies one inherited file from the base folder, hashing on the way. */
async function copyInherited(base: string, f: BundleFile, abs: string): Promise<void> {
  const src = join(base, f.path);
  const sink = await createSink(abs, f.mode);
  const h = createHash("sha256");
  let n = 0;
  try {
    for await (const c of createReadStream(src, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      h.update(c);
      n += c.length;
      await sink.write(c);
    }
  } catch (e) {
    await sink.abort();
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new OmstackError("E_BUNDLE_MISSING_FILE", `the base folder ${base} lacks ${f.path}, which the delta inherits`, { remedy: "re-extract the base bundle, then apply the delta again" });
    }
    throw writeError(abs, e);
  }
  const got = h.digest("hex");
  if (got !== f.sha256 || n !== f.size) {
    await sink.abort();
    throw new OmstackError("E_BUNDLE_CHECKSUM", `${src} has sha256 ${got}; the delta expects ${f.sha256}`, {
      remedy: "the base folder was changed after extraction: re-extract the base bundle, then apply the delta again",
      details: { entry: f.path },
    });
  }
  await sink.close();
}

/**
 * Extracts `file` into the folder `target`, which must not exist yet; `bundle.json` and its signature are kept at
 * the top so the folder can later serve as the base of a delta. Returns what was verified.
 */
export async function extractBundle(file: string, target: string, opts: ExtractOptions): Promise<VerifyResult> {
  const dest = resolve(target);
  if (await stat(dest).then(() => true, () => false)) {
    throw new OmstackError("E_BUNDLE_TARGET_EXISTS", `${dest} already exists; extraction needs a new folder`, {
      remedy: "choose a folder that does not exist yet, or remove the old one",
    });
  }
  const tmp = join(dirname(dest), `.${basename(dest)}.partial-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(tmp, { mode: 0o700 });
  } catch (e) {
    throw writeError(tmp, e);
  }
  const inside = (rel: string) => {
    const abs = resolve(tmp, rel);
    // paths are canonical already (verify checks them); this is a second, independent fence
    if (!abs.startsWith(tmp + "/")) throw new OmstackError("E_BUNDLE_UNSAFE_PATH", `"${rel}" would land outside ${dest}`, { remedy: "get an intact, signed bundle" });
    return abs;
  };
  let base: string | null = null;
  try {
    const result = await scanBundle(file, opts.trusted, {
      onProgress: opts.onProgress,
      async onVerifiedManifest(m, manifestBytes, sigBytes) {
        if (m.delta) base = await checkBase(m, opts.base, file);
        try {
          await writeFile(join(tmp, MANIFEST_NAME), manifestBytes, { flag: "wx", mode: 0o644 });
          await writeFile(join(tmp, SIGNATURE_NAME), sigBytes, { flag: "wx", mode: 0o644 });
        } catch (e) {
          throw writeError(tmp, e);
        }
      },
      openFile: (f: BundleFile) => createSink(inside(f.path), f.mode),
      async onSymlink(l) {
        const abs = inside(l.path);
        try {
          await mkdir(dirname(abs), { recursive: true, mode: 0o755 });
          await symlink(l.target, abs);
        } catch (e) {
          throw writeError(abs, e);
        }
      },
    });
    if (result.manifest.delta && base) {
      for (const f of result.manifest.delta.inherited) await copyInherited(base, f, inside(f.path));
    }
    try {
      await rename(tmp, dest);
    } catch (e) {
      throw writeError(dest, e);
    }
    return result;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
