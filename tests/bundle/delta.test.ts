// Delta bundles: only what the base lacks travels; applied on top of the base's extracted folder, the result equals
// the full bundle's extraction, and a wrong or altered base is refused.
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBundle, type BuildResult } from "../../installer/src/bundle/build.js";
import { diffManifests } from "../../installer/src/bundle/diff.js";
import { extractBundle } from "../../installer/src/bundle/extract.js";
import { verifyBundle } from "../../installer/src/bundle/verify.js";
import { keys, listing, REPO, sha, tempDir, testRecipe } from "./helpers.js";

let dir: string;
let k: Awaited<ReturnType<typeof keys>>;
let v1: BuildResult;
let v2: BuildResult;
let delta: BuildResult;

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) out[relative(root, abs)] = `${(statSync(abs).mode & 0o777).toString(8)} ${sha(readFileSync(abs))}`;
      else out[relative(root, abs)] = "link";
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  dir = tempDir("omstack-delta-");
  k = await keys(dir);
  v1 = await buildBundle({ recipe: testRecipe(), key: k.priv, out: join(dir, "v1.tar"), env: {} });
  // v2: a new script and a second image; the first image's blobs are unchanged and must not travel again
  const ctx2 = join(dir, "ctx2");
  cpSync(join(REPO, "bundle/images/hello"), ctx2, { recursive: true });
  writeFileSync(join(ctx2, "extra.txt"), "v2\n");
  const patch = (r: ReturnType<typeof testRecipe>) => {
    r.version = "0.0.2-test";
    const f = r.files.find((x) => x.path === "bin/omstack-hello");
    if (f && "source" in f) f.source = { kind: "content", content: "#!/bin/sh\necho v2\n" };
    r.images.push({ name: "omstack.local/test/hello2:2.0", source: { kind: "build", context: ctx2 } });
  };
  v2 = await buildBundle({ recipe: testRecipe(patch), key: k.priv, out: join(dir, "v2.tar"), env: {} });
  delta = await buildBundle({ recipe: testRecipe(patch), key: k.priv, out: join(dir, "v2-delta.tar"), env: {}, deltaFrom: { manifest: v1.manifest, manifestSha256: v1.manifestSha256 } });
});

describe("delta bundles", () => {
  it("carry only new or changed files and list the rest as inherited", () => {
    const v1Blobs = new Set(v1.manifest.files.filter((f) => f.path.startsWith("images/blobs/")).map((f) => f.path));
    const carried = delta.manifest.files.map((f) => f.path);
    expect(carried).toContain("bin/omstack-hello");
    expect(carried).toContain("images/index.json");
    for (const p of carried) expect(v1Blobs.has(p)).toBe(false);
    expect(delta.manifest.delta).toMatchObject({ fromVersion: "0.0.0-test", fromManifestSha256: v1.manifestSha256 });
    for (const p of v1Blobs) expect(delta.manifest.delta!.inherited.map((f) => f.path)).toContain(p);
    expect(delta.bytes).toBeLessThan(v2.bytes);
    expect(diffManifests(v1.manifest, delta.manifest)).toEqual(diffManifests(v1.manifest, v2.manifest));
  });

  it("verify accepts the delta alone; extracted onto its base it equals the full bundle", async () => {
    await expect(verifyBundle(delta.out, [k.pubKey])).resolves.toMatchObject({ files: delta.manifest.files.length });
    const base = join(dir, "x-v1");
    await extractBundle(v1.out, base, { trusted: [k.pubKey] });
    const fromDelta = join(dir, "x-v2-delta");
    await extractBundle(delta.out, fromDelta, { trusted: [k.pubKey], base });
    const full = join(dir, "x-v2-full");
    await extractBundle(v2.out, full, { trusted: [k.pubKey] });
    const a = tree(fromDelta);
    const b = tree(full);
    delete a["bundle.json"], delete a["bundle.json.sig"], delete b["bundle.json"], delete b["bundle.json.sig"];
    expect(a).toEqual(b);
  });

  it("refuses to apply without a base, onto the wrong base, or onto an altered base, leaving nothing", async () => {
    const ws = tempDir("omstack-delta-x-");
    await expect(extractBundle(delta.out, join(ws, "t"), { trusted: [k.pubKey] })).rejects.toMatchObject({ code: "E_BUNDLE_DELTA_BASE", message: expect.stringMatching(/needs that bundle's extracted folder/) });
    const wrong = join(ws, "wrong");
    await extractBundle(v2.out, wrong, { trusted: [k.pubKey] });
    await expect(extractBundle(delta.out, join(ws, "t"), { trusted: [k.pubKey], base: wrong })).rejects.toMatchObject({ code: "E_BUNDLE_DELTA_BASE" });
    const altered = join(ws, "altered");
    await extractBundle(v1.out, altered, { trusted: [k.pubKey] });
    const blob = delta.manifest.delta!.inherited.find((f) => f.path.startsWith("images/blobs/"))!;
    writeFileSync(join(altered, blob.path), "tampered");
    await expect(extractBundle(delta.out, join(ws, "t"), { trusted: [k.pubKey], base: altered })).rejects.toMatchObject({
      code: "E_BUNDLE_CHECKSUM",
      message: expect.stringContaining(blob.path),
    });
    expect(listing(ws)).toEqual(["altered", "wrong"]);
  });

  it("refuses a delta built on top of another delta", async () => {
    await expect(
      buildBundle({ recipe: testRecipe(), key: k.priv, out: join(dir, "dd.tar"), env: {}, deltaFrom: { manifest: delta.manifest, manifestSha256: delta.manifestSha256 } }),
    ).rejects.toMatchObject({ code: "E_USAGE", message: expect.stringMatching(/itself a delta/) });
  });
});
