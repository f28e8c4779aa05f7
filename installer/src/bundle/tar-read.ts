// Streams the entries of a tar file one at a time (tar@7's Parser), so a bundle is never loaded whole or
// extracted before it is checked. Also keeps the archive's last 1 KiB to tell a complete archive from a cut one.
import { createReadStream } from "node:fs";
import { Parser, type ReadEntry } from "tar";
import { OmstackError } from "../errors.js";

/** What a reader learns about one entry before its body. */
export interface EntryHead {
  path: string;
  type: string; // tar@7 type names: File, SymbolicLink, Link, Directory, CharacterDevice, FIFO, ...
  size: number;
  linkpath: string | undefined;
}

/** An entry handler: reads (or skips) the body; returning "stop" ends the scan early. */
export type EntryHandler = (head: EntryHead, body: AsyncIterable<Buffer>) => Promise<void | "stop">;

/** Totals of a scan that reached the end of the archive. */
export interface ScanEnd {
  bytes: number;
  endsWithZeroBlocks: boolean; // the last 1024 bytes are zero: the writer finished
  stopped: boolean;
}

function mapParserError(file: string, e: Error): OmstackError {
  const msg = e.message;
  if (/Truncated input/i.test(msg) || /unexpected end/i.test(msg)) {
    return new OmstackError("E_BUNDLE_TRUNCATED", `${file} is truncated: ${msg.replace(/^TAR_BAD_ARCHIVE: /, "")}`, {
      remedy: "the copy is incomplete: copy or download the bundle again and compare its size with the original",
      cause: e,
    });
  }
  return new OmstackError("E_BUNDLE_MALFORMED", `${file} is not a readable tar archive: ${msg}`, {
    remedy: "the file is damaged or is not an omstack bundle: get an intact copy",
    cause: e,
  });
}

/** Calls `handle` for each entry in order, with backpressure; throws OmstackError for unreadable or cut archives. */
export async function scanTar(file: string, handle: EntryHandler): Promise<ScanEnd> {
  const rs = createReadStream(file, { highWaterMark: 1 << 20 });
  const parser = new Parser({ strict: true, maxMetaEntrySize: 1 << 20 });
  const queue: ReadEntry[] = [];
  let ended = false;
  let failure: OmstackError | null = null;
  let wake: (() => void) | null = null;
  let current: ReadEntry | null = null;
  let bytes = 0;
  let tail: Buffer = Buffer.alloc(0);
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (e: OmstackError) => {
    if (failure) return;
    failure = e;
    current?.destroy(e);
    rs.destroy();
    poke();
  };

  rs.on("error", (e: NodeJS.ErrnoException) =>
    fail(
      new OmstackError("E_BUNDLE_READ", `cannot read ${file}: ${e.code ?? e.message}`, {
        remedy: "check the path and that the file is readable",
        cause: e,
      }),
    ),
  );
  rs.on("data", (chunk: Buffer | string) => {
    const c = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    bytes += c.length;
    tail = c.length >= 1024 ? c.subarray(c.length - 1024) : Buffer.concat([tail, c]).subarray(-1024);
    if (!parser.write(c)) {
      rs.pause();
      parser.once("drain", () => rs.resume());
    }
  });
  rs.on("end", () => parser.end());
  parser.on("error", (e: Error) => fail(mapParserError(file, e)));
  parser.on("entry", (e: ReadEntry) => {
    // errors reach the reader through its iterator or `failure`; an unheard 'error' event must not crash the process
    e.on("error", () => undefined);
    queue.push(e);
    poke();
  });
  parser.on("end", () => {
    ended = true;
    poke();
  });

  const next = async (): Promise<ReadEntry | null> => {
    for (;;) {
      if (failure) throw failure;
      const e = queue.shift();
      if (e) return e;
      if (ended) return null;
      await new Promise<void>((r) => (wake = r));
    }
  };

  let stopped = false;
  try {
    for (;;) {
      const entry = await next();
      if (!entry) break;
      current = entry;
      const head: EntryHead = { path: entry.path, type: entry.type, size: entry.size, linkpath: entry.linkpath };
      let consumed = false;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => {
          consumed = true;
          return entry[Symbol.asyncIterator]();
        },
      };
      const r = await handle(head, body);
      if (failure) throw failure;
      if (r === "stop") {
        stopped = true;
        break;
      }
      if (!consumed) {
        entry.resume();
        await new Promise<void>((res) => (entry.emittedEnd ? res() : entry.once("end", () => res())));
      }
      current = null;
    }
  } catch (e) {
    if (failure) throw failure;
    throw e;
  } finally {
    if (stopped || failure || !ended) rs.destroy();
  }
  return { bytes, endsWithZeroBlocks: tail.length === 1024 && tail.every((b) => b === 0) && bytes % 512 === 0, stopped };
}
