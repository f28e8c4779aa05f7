// Safe extraction for install and upgrade: verifies while writing into a hidden temporary folder beside the target,
// and renames it into place only when every entry checked out. A failure leaves nothing that looks complete.
import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat, symlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { OmstackError } from "../errors.js";
import type { BundleFile } from "./manifest.js";
import { scanBundle, type FileSink, type VerifyResult } from "./verify.js";

/** Options for extracting a bundle. */
export interface ExtractOptions {
  trusted: KeyObject[];
  onProgress?(bytes: number): void;
}

function writeError(path: string, e: unknown): OmstackError {
  const code = (e as NodeJS.ErrnoException).code;
  const full = code === "ENOSPC" || code === "EDQUOT";
  return new OmstackError("E_BUNDLE_WRITE", `cannot write ${path}: ${full ? "the disk is full" : (code ?? (e as Error).message)}`, {
    remedy: full ? "free space on that filesystem (the bundle's size is shown by `omstack bundle inspect`) and run again" : "check the target folder's permissions",
    cause: e,
  });
}

/** Extracts `file` into the folder `target`, which must not exist yet; returns what was verified. */
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
  try {
    const result = await scanBundle(file, opts.trusted, {
      onProgress: opts.onProgress,
      async openFile(f: BundleFile): Promise<FileSink> {
        const abs = inside(f.path);
        let fh: FileHandle;
        try {
          await mkdir(dirname(abs), { recursive: true, mode: 0o755 });
          fh = await open(abs, "wx", f.mode);
        } catch (e) {
          throw writeError(abs, e);
        }
        return {
          async write(chunk) {
            try {
              // write() may store fewer bytes than asked (a nearly full disk); loop until all are written or it fails
              for (let off = 0; off < chunk.length; ) {
                const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
                if (bytesWritten === 0) throw Object.assign(new Error("no progress writing"), { code: "ENOSPC" });
                off += bytesWritten;
              }
            } catch (e) {
              throw writeError(abs, e);
            }
          },
          async close() {
            try {
              await fh.chmod(f.mode);
              await fh.close();
            } catch (e) {
              throw writeError(abs, e);
            }
          },
          async abort() {
            await fh.close().catch(() => undefined);
          },
        };
      },
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
