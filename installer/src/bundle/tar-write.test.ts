import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { scanTar } from "./tar-read.js";
import { tarChunks, TarBodyMismatch, type TarEntry } from "./tar-write.js";

async function bytes(entries: TarEntry[], mtime = 1735689600): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of tarChunks(entries, { mtime })) parts.push(c);
  return Buffer.concat(parts);
}
const file = (path: string, data: string, mode = 0o644): TarEntry => ({ type: "file", path, mode, size: Buffer.byteLength(data), open: () => Readable.from([Buffer.from(data)]) });

describe("tarChunks", () => {
  const longPath = "a/" + "very-long-segment/".repeat(8) + "file.txt"; // > 100 bytes: needs a pax header
  const entries = [file("bin/x", "#!/bin/sh\n", 0o755), file(longPath, "long\n"), { type: "symlink", path: "bin/y", target: "x" } as TarEntry];

  it("writes an archive GNU tar lists with our owners, modes, mtime and long path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tarw-"));
    const f = join(dir, "a.tar");
    writeFileSync(f, await bytes(entries));
    const listing = execFileSync("tar", ["--utc", "-tvf", f], { encoding: "utf8" });
    expect(listing).toContain("-rwxr-xr-x 0/0              10 2025-01-01 00:00 bin/x");
    expect(listing).toContain(longPath);
    expect(listing).toMatch(/lrwxrwxrwx 0\/0 +0 2025-01-01 00:00 bin\/y -> x/);
    expect(execFileSync("tar", ["-xOf", f, longPath], { encoding: "utf8" })).toBe("long\n");
  });

  it("is read back by tar@7 entry by entry, ending with two zero blocks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tarw-"));
    const f = join(dir, "a.tar");
    writeFileSync(f, await bytes(entries));
    const seen: string[] = [];
    const end = await scanTar(f, async (h, body) => {
      let s = "";
      for await (const c of body) s += c.toString();
      seen.push(`${h.type}:${h.path}:${s}`);
    });
    expect(seen).toEqual(["File:bin/x:#!/bin/sh\n", `File:${longPath}:long\n`, "SymbolicLink:bin/y:"]);
    expect(end.endsWithZeroBlocks).toBe(true);
  });

  it("gives identical bytes for identical input and different bytes for another mtime", async () => {
    expect((await bytes(entries)).equals(await bytes(entries))).toBe(true);
    expect((await bytes(entries)).equals(await bytes(entries, 1))).toBe(false);
  });

  it("refuses a body whose size or hash differs from what was recorded", async () => {
    const short: TarEntry = { type: "file", path: "x", mode: 0o644, size: 5, open: () => Readable.from([Buffer.from("abc")]) };
    await expect(bytes([short])).rejects.toBeInstanceOf(TarBodyMismatch);
    const wrongHash: TarEntry = { ...file("x", "abc"), sha256: "0".repeat(64) } as TarEntry;
    await expect(bytes([wrongHash])).rejects.toThrow(/changed after it was hashed/);
  });
});
