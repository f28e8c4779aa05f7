// Every tampered or damaged bundle is refused with a stable code, by verify and by extract, and extraction leaves
// nothing behind: no target folder, no partial folder, nothing outside the target.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ErrorCode } from "../../installer/src/errors.js";
import { extractBundle } from "../../installer/src/bundle/extract.js";
import { verifyBundle } from "../../installer/src/bundle/verify.js";
import { buildTest, craft, fileEntry, keys, listing, manifestFor, rawHeader, tempDir } from "./helpers.js";

let dir: string;
let good: string;
let k: Awaited<ReturnType<typeof keys>>;
let other: Awaited<ReturnType<typeof keys>>;

beforeAll(async () => {
  dir = tempDir();
  k = await keys(dir);
  other = await keys(dir, "other");
  good = (await buildTest(join(dir, "good.tar"), k.priv)).out;
});

/** Expects verify and extract both to refuse `file` with `code` (and a message matching `re`), writing nothing. */
async function refused(file: string, code: ErrorCode, re: RegExp, trust = [k.pubKey]): Promise<void> {
  await expect(verifyBundle(file, trust)).rejects.toMatchObject({ code, message: expect.stringMatching(re) });
  const ws = tempDir("omstack-extract-");
  const target = join(ws, "sub", "target");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(ws, "sub"));
  await expect(extractBundle(file, target, { trusted: trust })).rejects.toMatchObject({ code });
  expect(listing(join(ws, "sub"))).toEqual([]); // no target, no .partial folder
  expect(listing(ws)).toEqual(["sub"]); // nothing next to it either (tar-slip would land here)
}

function variant(name: string, bytes: Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

/** Offset of an entry's body in a tar we wrote (headers are 512 bytes, bodies padded to 512). */
function bodyOffset(tar: Buffer, path: string): number {
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.subarray(off, off + 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(tar.subarray(off + 124, off + 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    if (name === path) return off + 512;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${path} not found`);
}

describe("tampered bundles", () => {
  it("accepts the untouched bundle (the control)", async () => {
    await expect(verifyBundle(good, [k.pubKey])).resolves.toMatchObject({ signedBy: expect.any(String) });
  });

  it("refuses a bundle truncated in the middle of a file", async () => {
    const b = readFileSync(good);
    await refused(variant("cut-mid.tar", b.subarray(0, bodyOffset(b, "images/index.json") + 100)), "E_BUNDLE_TRUNCATED", /truncated/);
  });

  it("refuses a bundle cut at an entry boundary (end-of-archive blocks missing)", async () => {
    const b = readFileSync(good);
    await refused(variant("cut-end.tar", b.subarray(0, b.length - 1024)), "E_BUNDLE_TRUNCATED", /two zero blocks/);
  });

  it("refuses one flipped byte in an image blob, naming the file", async () => {
    const b = Buffer.from(readFileSync(good));
    const m = JSON.parse(b.subarray(512, 512 + 4096).toString("utf8").replace(/\0[\s\S]*$/, "")) as { images: { blobs: string[] }[] };
    const blob = `images/blobs/sha256/${m.images[0]!.blobs[0]!.slice(7)}`;
    b[bodyOffset(b, blob) + 10]! ^= 0x01;
    await refused(variant("flip.tar", b), "E_BUNDLE_CHECKSUM", new RegExp(`"${blob}" has sha256`));
  });

  it("refuses a bundle signed by a key that is not trusted", async () => {
    await refused(good, "E_BUNDLE_SIGNATURE", /does not verify/, [other.pubKey]);
  });

  it("refuses a bundle whose bundle.json was edited after signing", async () => {
    const b = Buffer.from(readFileSync(good));
    const at = b.indexOf("0.0.0-test", 512);
    b.write("9", at, "ascii");
    await refused(variant("edited.tar", b), "E_BUNDLE_SIGNATURE", /does not verify/);
  });

  it("refuses an unsigned bundle", async () => {
    const f = join(dir, "unsigned.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), sig: false, entries: [fileEntry("bin/a", "a")] });
    await refused(f, "E_BUNDLE_UNSIGNED", /no signature/);
  });

  it("refuses an archive that is not a bundle", async () => {
    const f = join(dir, "plain.tar");
    const { tarChunks } = await import("../../installer/src/bundle/tar-write.js");
    const parts: Buffer[] = [];
    for await (const c of tarChunks([fileEntry("README", "hi")], { mtime: 0 })) parts.push(c);
    writeFileSync(f, Buffer.concat(parts));
    await refused(f, "E_BUNDLE_MALFORMED", /first entry must be bundle.json/);
    await refused(variant("garbage.tar", Buffer.alloc(3000, 7)), "E_BUNDLE_MALFORMED", /not a readable tar|first entry/);
  });

  it("refuses a tar-slip entry and writes nothing outside the target", async () => {
    const f = join(dir, "slip.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "a"), fileEntry("../../escaped", "pwned")] });
    await refused(f, "E_BUNDLE_UNSAFE_PATH", /"\.\.\/\.\.\/escaped" is refused: the path climbs out/);
    const abs = join(dir, "abs.tar");
    await craft(abs, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("/tmp/omstack-abs-escape", "pwned")] });
    await refused(abs, "E_BUNDLE_UNSAFE_PATH", /absolute/);
    expect(existsSync("/tmp/omstack-abs-escape")).toBe(false);
  });

  it("refuses a symlink escaping the bundle, and a hard link", async () => {
    const f = join(dir, "link.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "a"), { type: "symlink", path: "bin/evil", target: "../../../etc/passwd" }] });
    await refused(f, "E_BUNDLE_UNSAFE_LINK", /points outside the bundle/);
    const h = join(dir, "hard.tar");
    await craft(h, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "a")], extra: [rawHeader("bin/b", "1", "/etc/shadow")] });
    await refused(h, "E_BUNDLE_UNSAFE_LINK", /hard link/);
  });

  it("refuses device files and FIFOs", async () => {
    for (const [t, name] of [["3", "CharacterDevice"], ["4", "BlockDevice"], ["6", "FIFO"]] as const) {
      const f = join(dir, `dev-${t}.tar`);
      await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "a")], extra: [rawHeader("dev/x", t)] });
      await refused(f, "E_BUNDLE_UNSAFE_TYPE", new RegExp(`is a ${name}`));
    }
  });

  it("refuses a duplicate entry (a second copy replacing a checked file)", async () => {
    const f = join(dir, "dup.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "a"), fileEntry("bin/a", "b")] });
    await refused(f, "E_BUNDLE_DUPLICATE_ENTRY", /appears twice/);
  });

  it("refuses a file bundle.json does not list", async () => {
    const f = join(dir, "unlisted.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "a"), fileEntry("bin/z", "z")] });
    await refused(f, "E_BUNDLE_UNLISTED_FILE", /"bin\/z" is in the archive but bundle.json does not list it/);
  });

  it("refuses a bundle.json listing a file the archive lacks, naming it", async () => {
    const f = join(dir, "missing.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }, { path: "bin/b", data: "b" }]), key: k.priv, entries: [fileEntry("bin/a", "a")] });
    await refused(f, "E_BUNDLE_MISSING_FILE", /does not hold: bin\/b/);
  });

  it("refuses a file whose size differs from bundle.json", async () => {
    const f = join(dir, "size.tar");
    await craft(f, { manifest: manifestFor([{ path: "bin/a", data: "a" }]), key: k.priv, entries: [fileEntry("bin/a", "aa")] });
    await refused(f, "E_BUNDLE_CHECKSUM", /is 2 bytes; bundle.json says 1/);
  });

  it("refuses a missing bundle file with a clear read error", async () => {
    await expect(verifyBundle(join(dir, "nope.tar"), [k.pubKey])).rejects.toMatchObject({ code: "E_BUNDLE_READ", message: expect.stringMatching(/ENOENT/) });
  });
});
