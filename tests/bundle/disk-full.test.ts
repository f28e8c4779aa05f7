// A full disk while building or extracting: a clear E_BUNDLE_WRITE and nothing left behind. Uses a 64 KiB tmpfs
// (the suite runs as root, see tests/run.sh).
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../../installer/src/bundle/build.js";
import { extractBundle } from "../../installer/src/bundle/extract.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { keys, tempDir } from "./helpers.js";

let small: string;
let work: string;
let k: Awaited<ReturnType<typeof keys>>;

beforeAll(async () => {
  work = tempDir("omstack-full-");
  small = tempDir("omstack-tmpfs-");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]);
  k = await keys(work);
});
afterAll(() => {
  if (small) execFileSync("umount", [small]);
});

describe("disk full", () => {
  const big = "x".repeat(200 * 1024);
  const recipeText = `version: 1.0.0\nbuildTime: "2025-01-01T00:00:00Z"\nfiles:\n  - path: bin/big\n    content: ${JSON.stringify(big)}\n`;

  it("build reports E_BUNDLE_WRITE and leaves no partial bundle", async () => {
    const recipe = parseRecipe(recipeText, join(work, "r.yaml"));
    await expect(buildBundle({ recipe, key: k.priv, out: join(small, "b.tar"), env: {} })).rejects.toMatchObject({
      code: "E_BUNDLE_WRITE",
      message: expect.stringMatching(/b\.tar: the disk is full/),
    });
    expect(readdirSync(small)).toEqual([]);
  });

  it("extract reports E_BUNDLE_WRITE and leaves no partial folder", async () => {
    const recipe = parseRecipe(recipeText, join(work, "r.yaml"));
    const out = join(work, "b.tar");
    await buildBundle({ recipe, key: k.priv, out, env: {} });
    writeFileSync(join(small, "keep"), "a file that was there before");
    await expect(extractBundle(out, join(small, "x"), { trusted: [k.pubKey] })).rejects.toMatchObject({ code: "E_BUNDLE_WRITE", message: expect.stringMatching(/the disk is full/) });
    expect(readdirSync(small)).toEqual(["keep"]);
  });
});
