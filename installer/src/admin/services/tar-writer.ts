// Pure: a minimal ustar + gzip writer for support bundles built from in-memory files (no temp files on disk).
import { gzipSync } from "node:zlib";

/** A file to put in the archive. */
export interface TarFile {
  path: string;
  content: string | Buffer;
  mode?: number;
  mtime?: Date;
}

/** A gzip-compressed ustar archive of the files, in the order given. */
export function tarGz(files: TarFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const body = typeof f.content === "string" ? Buffer.from(f.content, "utf8") : f.content;
    blocks.push(header(f.path, body.length, f.mode ?? 0o600, f.mtime ?? new Date()));
    blocks.push(body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function header(path: string, size: number, mode: number, mtime: Date): Buffer {
  const clean = path.replace(/^\/+/, "");
  if (clean.split("/").includes("..")) throw new Error(`archive path ${path} must not contain '..'`);
  let name = clean;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = clean.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(clean.slice(cut + 1)) > 100) throw new Error(`archive path ${path} is too long for ustar`);
    prefix = clean.slice(0, cut);
    name = clean.slice(cut + 1);
  }
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  octal(h, mode, 100, 8);
  octal(h, 0, 108, 8);
  octal(h, 0, 116, 8);
  octal(h, size, 124, 12);
  octal(h, Math.floor(mtime.getTime() / 1000), 136, 12);
  h.fill(" ", 148, 156);
  h.write("0", 156, 1, "ascii");
  h.write("ustar\u000000", 257, 8, "ascii");
  h.write("omstack", 265, 32, "ascii");
  h.write("omstack", 297, 32, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\u0000 ", 148, 8, "ascii");
  return h;
}

function octal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(value.toString(8).padStart(length - 1, "0") + "\u0000", offset, length, "ascii");
}
