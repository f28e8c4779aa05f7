// Checks a bundle in one streaming pass: bundle.json first, its signature second and verified before anything else
// is trusted, then every entry against the listing (safe path, allowed type, listed once, size and sha256).
import { createHash, type KeyObject } from "node:crypto";
import { OmstackError } from "../errors.js";
import { MANIFEST_NAME, MAX_MANIFEST_BYTES, SIGNATURE_NAME, parseManifest, type BundleFile, type BundleManifest, type BundleSymlink } from "./manifest.js";
import { pathProblem, resolveLinkTarget } from "./paths.js";
import { parseSignature, verifyManifestSignature, type BundleSignature } from "./sign.js";
import { scanTar, type EntryHead } from "./tar-read.js";

/** Where verified bytes go (extraction writes them; plain verify drops them). */
export interface FileSink {
  write(chunk: Buffer): Promise<void> | void;
  /** Called after the body was fully written and matched its sha256. */
  close(): Promise<void>;
  /** Called when the body turned out wrong or the scan failed. */
  abort(): Promise<void>;
}

/** Hooks for extraction; verify passes none. */
export interface ScanHooks {
  onVerifiedManifest?(m: BundleManifest, manifestBytes: Buffer, signatureBytes: Buffer): Promise<void>;
  openFile?(f: BundleFile): Promise<FileSink>;
  onSymlink?(l: BundleSymlink): Promise<void>;
  /** Progress: bytes of file bodies checked so far. */
  onProgress?(bytes: number): void;
}

/** What a successful verification established. */
export interface VerifyResult {
  manifest: BundleManifest;
  manifestSha256: string;
  signedBy: string;
  files: number;
  bytes: number;
}

async function readSmall(body: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > max) throw new OmstackError("E_BUNDLE_MALFORMED", `${what} is larger than ${max} bytes`, { remedy: "the bundle is damaged or not an omstack bundle" });
    parts.push(c);
  }
  return Buffer.concat(parts);
}

function entryKindError(file: string, h: EntryHead): OmstackError | null {
  const problem = pathProblem(h.path);
  if (problem) {
    return new OmstackError("E_BUNDLE_UNSAFE_PATH", `${file}: entry "${h.path}" is refused: ${problem}`, {
      remedy: "the bundle was tampered with or built by another tool; never extract it by hand — get an intact, signed bundle",
      details: { entry: h.path },
    });
  }
  if (h.type === "Link") {
    return new OmstackError("E_BUNDLE_UNSAFE_LINK", `${file}: entry "${h.path}" is a hard link (to ${h.linkpath ?? "?"}); bundles hold no hard links`, {
      remedy: "get an intact bundle built by `omstack bundle build`",
      details: { entry: h.path },
    });
  }
  if (h.type === "SymbolicLink" && resolveLinkTarget(h.path, h.linkpath ?? "") === null) {
    return new OmstackError("E_BUNDLE_UNSAFE_LINK", `${file}: symlink "${h.path}" points outside the bundle (to ${h.linkpath ?? "?"})`, {
      remedy: "the bundle was tampered with; get an intact, signed bundle",
      details: { entry: h.path },
    });
  }
  if (!["File", "OldFile", "ContiguousFile", "SymbolicLink", "Directory"].includes(h.type)) {
    return new OmstackError("E_BUNDLE_UNSAFE_TYPE", `${file}: entry "${h.path}" is a ${h.type}; bundles hold only regular files and symlinks`, {
      remedy: "the bundle was tampered with; get an intact, signed bundle",
      details: { entry: h.path },
    });
  }
  return null;
}

/** Reads only bundle.json and bundle.json.sig (no trust decision): for inspect and diff. */
export async function readBundleHead(file: string): Promise<{ manifest: BundleManifest; manifestBytes: Buffer; signature: BundleSignature | null }> {
  let manifestBytes: Buffer | null = null;
  let signature: BundleSignature | null = null;
  let index = 0;
  await scanTar(file, async (h, body) => {
    index++;
    if (index === 1) {
      if (h.path !== MANIFEST_NAME || h.type !== "File") throw notBundle(file, h);
      manifestBytes = await readSmall(body, MAX_MANIFEST_BYTES, MANIFEST_NAME);
      return;
    }
    if (h.path === SIGNATURE_NAME && h.type === "File") signature = parseSignature(await readSmall(body, 4096, SIGNATURE_NAME));
    return "stop";
  });
  if (!manifestBytes) throw notBundle(file, null);
  return { manifest: parseManifest(manifestBytes), manifestBytes, signature };
}

function notBundle(file: string, h: EntryHead | null): OmstackError {
  return new OmstackError("E_BUNDLE_MALFORMED", `${file} is not an omstack bundle: the first entry must be ${MANIFEST_NAME}, found ${h ? `"${h.path}"` : "an empty archive"}`, {
    remedy: "pass a file made by `omstack bundle build`",
  });
}

/**
 * The single streaming pass: signature, then each entry. Throws the first problem as an OmstackError naming the entry.
 * `trusted` must hold at least one key: nothing in a bundle is believed before its signature verifies.
 */
export async function scanBundle(file: string, trusted: KeyObject[], hooks: ScanHooks = {}): Promise<VerifyResult> {
  if (trusted.length === 0) {
    throw new OmstackError("E_BUNDLE_UNTRUSTED", "no trusted public key was given, so the bundle's signature cannot be checked", {
      remedy: "pass the publisher's key with --trust KEY.pub",
    });
  }
  let manifestBytes: Buffer | null = null;
  let manifest: BundleManifest | null = null;
  let signedBy = "";
  let index = 0;
  let bytes = 0;
  let files = 0;
  const seen = new Set<string>();
  let fileByPath = new Map<string, BundleFile>();
  let linkByPath = new Map<string, BundleSymlink>();

  const end = await scanTar(file, async (h, body) => {
    index++;
    if (index === 1) {
      if (h.path !== MANIFEST_NAME || h.type !== "File") throw notBundle(file, h);
      manifestBytes = await readSmall(body, MAX_MANIFEST_BYTES, MANIFEST_NAME);
      return;
    }
    if (index === 2) {
      if (h.path !== SIGNATURE_NAME || h.type !== "File") {
        throw new OmstackError("E_BUNDLE_UNSIGNED", `${file} carries no signature: the second entry must be ${SIGNATURE_NAME}, found "${h.path}"`, {
          remedy: "sign the bundle when building it (`omstack bundle build --key KEY`); an unsigned bundle is never installed",
        });
      }
      const sigBytes = await readSmall(body, 4096, SIGNATURE_NAME);
      const sig = parseSignature(sigBytes);
      signedBy = verifyManifestSignature(manifestBytes!, sig, trusted);
      manifest = parseManifest(manifestBytes!);
      fileByPath = new Map(manifest.files.map((f) => [f.path, f]));
      linkByPath = new Map(manifest.symlinks.map((l) => [l.path, l]));
      seen.add(MANIFEST_NAME).add(SIGNATURE_NAME);
      await hooks.onVerifiedManifest?.(manifest, manifestBytes!, sigBytes);
      return;
    }
    const bad = entryKindError(file, h);
    if (bad) throw bad;
    if (seen.has(h.path)) {
      throw new OmstackError("E_BUNDLE_DUPLICATE_ENTRY", `${file}: "${h.path}" appears twice in the archive`, {
        remedy: "the bundle was tampered with (a second copy could replace a checked file); get an intact, signed bundle",
        details: { entry: h.path },
      });
    }
    seen.add(h.path);
    if (h.type === "SymbolicLink") {
      const listed = linkByPath.get(h.path);
      if (!listed) throw unlisted(file, h.path);
      if (listed.target !== h.linkpath) {
        throw new OmstackError("E_BUNDLE_CHECKSUM", `${file}: symlink "${h.path}" points to ${h.linkpath ?? "?"}; bundle.json says ${listed.target}`, {
          remedy: "the bundle was altered after signing; get an intact copy",
          details: { entry: h.path },
        });
      }
      await hooks.onSymlink?.(listed);
      return;
    }
    const listed = fileByPath.get(h.path);
    if (!listed || h.type === "Directory") throw unlisted(file, h.path);
    if (h.size !== listed.size) {
      throw new OmstackError("E_BUNDLE_CHECKSUM", `${file}: "${h.path}" is ${h.size} bytes; bundle.json says ${listed.size}`, {
        remedy: "the bundle was altered after signing; get an intact copy",
        details: { entry: h.path },
      });
    }
    const sink = hooks.openFile ? await hooks.openFile(listed) : null;
    const hash = createHash("sha256");
    try {
      for await (const c of body) {
        hash.update(c);
        bytes += c.length;
        if (sink) await sink.write(c);
        hooks.onProgress?.(bytes);
      }
      const got = hash.digest("hex");
      if (got !== listed.sha256) {
        throw new OmstackError("E_BUNDLE_CHECKSUM", `${file}: "${h.path}" has sha256 ${got}; bundle.json says ${listed.sha256}`, {
          remedy: "the file was damaged or altered after signing: copy the bundle again and re-run `omstack bundle verify`",
          details: { entry: h.path, expected: listed.sha256, found: got },
        });
      }
      await sink?.close();
    } catch (e) {
      await sink?.abort();
      throw e;
    }
    files++;
  });

  if (index === 0) throw notBundle(file, null);
  if (index === 1) {
    throw new OmstackError("E_BUNDLE_UNSIGNED", `${file} carries no signature: it holds only ${MANIFEST_NAME}`, {
      remedy: "sign the bundle when building it (`omstack bundle build --key KEY`)",
    });
  }
  if (!end.endsWithZeroBlocks) {
    throw new OmstackError("E_BUNDLE_TRUNCATED", `${file} is truncated: it does not end with the two zero blocks that close a tar archive (${end.bytes} bytes read)`, {
      remedy: "the copy is incomplete: copy or download the bundle again and compare its size with the original",
    });
  }
  const m = manifest as BundleManifest | null;
  if (!m) throw notBundle(file, null);
  const missing = [...m.files.map((f) => f.path), ...m.symlinks.map((l) => l.path)].filter((p) => !seen.has(p));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(", ") + (missing.length > 5 ? ` and ${missing.length - 5} more` : "");
    throw new OmstackError("E_BUNDLE_MISSING_FILE", `${file}: bundle.json lists ${missing.length} file(s) the archive does not hold: ${shown}`, {
      remedy: "the bundle is incomplete: rebuild it, or copy it again from the publisher",
      details: { missing },
    });
  }
  return { manifest: m, manifestSha256: createHash("sha256").update(manifestBytes!).digest("hex"), signedBy, files, bytes };
}

function unlisted(file: string, path: string): OmstackError {
  return new OmstackError("E_BUNDLE_UNLISTED_FILE", `${file}: "${path}" is in the archive but bundle.json does not list it`, {
    remedy: "the bundle was altered after signing; get an intact, signed bundle",
    details: { entry: path },
  });
}

/** Verifies a bundle without writing anything. */
export function verifyBundle(file: string, trusted: KeyObject[], onProgress?: (bytes: number) => void): Promise<VerifyResult> {
  return scanBundle(file, trusted, onProgress ? { onProgress } : {});
}
