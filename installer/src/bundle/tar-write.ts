// A tiny deterministic ustar/pax writer. tar@7's Pack reads metadata from the filesystem (mtime, uid, uname, inode
// order); a bundle must be byte-identical for the same inputs, so we write headers ourselves from explicit values.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";

/** One regular file in an archive: the writer checks the body has exactly `size` bytes (and `sha256`, when given). */
export interface TarFile {
  type: "file";
  path: string;
  mode: number;
  size: number;
  sha256?: string;
  /** Opens the body; called once, when the writer reaches this entry. */
  open(): Readable | Promise<Readable>;
}

/** A relative symbolic link. */
export interface TarSymlink {
  type: "symlink";
  path: string;
  target: string;
}

export type TarEntry = TarFile | TarSymlink;

/** Fixed metadata for every header: owners are 0/0 with empty names, mtime is the bundle's build time. */
export interface TarDefaults {
  mtime: number; // seconds since the epoch
}

const BLOCK = 512;
const MAX_OCTAL_11 = 0o77777777777;

function writeString(buf: Buffer, s: string, off: number, len: number): void {
  buf.write(s, off, len, "utf8");
}

function writeOctal(buf: Buffer, n: number, off: number, len: number): void {
  // len-1 octal digits, zero padded, then NUL
  const s = Math.floor(n).toString(8).padStart(len - 1, "0");
  if (s.length > len - 1) throw new Error(`tar: value ${n} does not fit a ${len}-byte octal field`);
  buf.write(s + "\0", off, len, "ascii");
}

/** One 512-byte ustar header. Long values must already have moved to a pax header; fields are truncated safely here. */
function ustarHeader(name: string, typeflag: string, size: number, mode: number, mtime: number, linkname = ""): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, name, 0, 100);
  writeOctal(h, mode & 0o7777, 100, 8);
  writeOctal(h, 0, 108, 8); // uid
  writeOctal(h, 0, 116, 8); // gid
  writeOctal(h, size, 124, 12);
  writeOctal(h, mtime, 136, 12);
  h.write("        ", 148, 8, "ascii"); // checksum placeholder: eight spaces
  h.write(typeflag, 156, 1, "ascii");
  writeString(h, linkname, 157, 100);
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  // uname, gname, devmajor, devminor, prefix: left empty/zero on purpose
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return h;
}

/** A pax record "LEN key=value\n" where LEN counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (len !== bodyLen + String(len).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** Headers for an entry: a pax 'x' header first when the path or link is over 100 bytes or the size over 8 GiB. */
export function entryHeaders(e: TarEntry, d: TarDefaults): Buffer[] {
  const records: string[] = [];
  const size = e.type === "file" ? e.size : 0;
  if (Buffer.byteLength(e.path) > 100) records.push(paxRecord("path", e.path));
  if (e.type === "symlink" && Buffer.byteLength(e.target) > 100) records.push(paxRecord("linkpath", e.target));
  if (size > MAX_OCTAL_11) records.push(paxRecord("size", String(size)));
  const out: Buffer[] = [];
  if (records.length > 0) {
    const body = Buffer.from(records.join(""));
    out.push(ustarHeader("PaxHeader", "x", body.length, 0o644, d.mtime), body, padding(body.length));
  }
  const shortName = Buffer.byteLength(e.path) > 100 ? e.path.slice(0, 100) : e.path;
  if (e.type === "file") {
    out.push(ustarHeader(shortName, "0", size > MAX_OCTAL_11 ? 0 : size, e.mode, d.mtime));
  } else {
    const shortLink = Buffer.byteLength(e.target) > 100 ? e.target.slice(0, 100) : e.target;
    out.push(ustarHeader(shortName, "2", 0, 0o777, d.mtime, shortLink));
  }
  return out;
}

/** Thrown when a file's body does not match what was promised (changed on disk since it was hashed). */
export class TarBodyMismatch extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
  }
}

/** Yields the archive's bytes, entry by entry, ending with two zero blocks; bodies are streamed, never held whole. */
export async function* tarChunks(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, d: TarDefaults): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    for (const h of entryHeaders(e, d)) if (h.length > 0) yield h;
    if (e.type !== "file") continue;
    const hash = e.sha256 ? createHash("sha256") : null;
    let n = 0;
    const body = await e.open();
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      n += b.length;
      if (n > e.size) {
        body.destroy();
        throw new TarBodyMismatch(e.path, `grew beyond the ${e.size} bytes recorded`);
      }
      hash?.update(b);
      yield b;
    }
    if (n !== e.size) throw new TarBodyMismatch(e.path, `has ${n} bytes, ${e.size} were recorded`);
    if (hash && hash.digest("hex") !== e.sha256) throw new TarBodyMismatch(e.path, "changed after it was hashed");
    const pad = padding(e.size);
    if (pad.length > 0) yield pad;
  }
  yield Buffer.alloc(BLOCK * 2);
}
