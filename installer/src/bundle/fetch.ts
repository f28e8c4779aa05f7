// Downloads a file over HTTP(S) into a folder we own, checking it against its published sha256 before it gets its
// final name; retries transient failures and resumes with Range where the server allows it.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { OmstackError } from "../errors.js";

/** Retry policy shared by URL downloads and the registry client. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250 };

/** True for errors worth another try: network resets and 5xx/429 answers. */
export function isTransient(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 429 || e.status === 408;
  if (e instanceof OmstackError) return false;
  return true;
}

/** An HTTP answer we did not want. */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url} answered HTTP ${status}`);
  }
}

/** Sleeps between attempts: baseDelay × 2^attempt. */
export function backoff(policy: RetryPolicy, attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, policy.baseDelayMs * 2 ** attempt));
}

/**
 * Appends the body of `url` (from byte `from` on, via Range) to `dest`; returns bytes written.
 * A server that ignores Range (200 instead of 206) restarts the file from zero.
 */
async function downloadOnce(url: string, dest: string, from: number, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers: from > 0 ? { ...headers, Range: `bytes=${from}-` } : headers, redirect: "follow" });
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new HttpStatusError(url, res.status);
  }
  const append = from > 0 && res.status === 206;
  if (!res.body) throw new Error(`${url}: empty body`);
  await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(dest, { flags: append ? "a" : "w", mode: 0o644 }));
}

/** Size of a partial download, 0 when absent. */
async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** sha256 hex of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    h.update(c);
    size += c.length;
  }
  return { sha256: h.digest("hex"), size };
}

/**
 * Downloads `url` into `dir`, resuming after dropped connections, and returns the final path (named by its sha256).
 * Throws E_BUNDLE_SOURCE_DIGEST when the bytes differ from `sha256`, E_BUNDLE_FETCH when the server cannot deliver.
 */
export async function fetchVerified(url: string, sha256: string, dir: string, policy: RetryPolicy = DEFAULT_RETRY): Promise<{ path: string; size: number }> {
  const final = join(dir, sha256);
  if (await stat(final).then(() => true, () => false)) return { path: final, size: await sizeOf(final) };
  const part = join(dir, `.${sha256}.${randomBytes(4).toString("hex")}.part`);
  let lastErr: unknown;
  try {
    for (let attempt = 0; attempt < policy.attempts; attempt++) {
      try {
        await downloadOnce(url, part, await sizeOf(part), {});
        lastErr = undefined;
        break;
      } catch (e) {
        lastErr = e;
        if (!isTransient(e) || attempt === policy.attempts - 1) break;
        await backoff(policy, attempt);
      }
    }
    if (lastErr !== undefined) {
      throw new OmstackError("E_BUNDLE_FETCH", `cannot download ${url}: ${(lastErr as Error).message}`, {
        remedy: "check the URL and that the server is reachable from this build machine",
        cause: lastErr,
      });
    }
    const got = await hashFile(part);
    if (got.sha256 !== sha256) {
      throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${url} has sha256 ${got.sha256}; the recipe pins ${sha256}`, {
        remedy: "the download is not the file the recipe expects: check the URL and the publisher's checksum list, then fix url: or sha256:",
        details: { url, expected: sha256, found: got.sha256 },
      });
    }
    await rename(part, final);
    return { path: final, size: got.size };
  } finally {
    await rm(part, { force: true });
  }
}
