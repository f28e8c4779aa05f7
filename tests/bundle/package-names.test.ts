// A package file whose name breaks the bundle's path rules is refused at build time, not by `bundle verify` later.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildBundle } from "../../installer/src/bundle/build.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { keys, tempDir } from "./helpers.js";

describe("bundle build: package file names", () => {
  it("refuses apt's percent-encoded cache name with E_BUNDLE_RECIPE and writes nothing; dpkg's own name builds", async () => {
    const work = tempDir();
    const k = await keys(work);
    const recipeFor = (file: string) => {
      writeFileSync(join(work, file), "not really a deb\n");
      return parseRecipe(`version: 1.0.0\nbuildTime: "2025-01-01T00:00:00Z"\npackages:\n  debian:\n    - { name: conntrack, version: "1:1.4.7-1+b2", source: ${JSON.stringify(file)} }\n`, join(work, "r.yaml"));
    };
    const out = join(work, "bad.tar");
    await expect(buildBundle({ recipe: recipeFor("conntrack_1%3a1.4.7-1+b2_amd64.deb"), key: k.priv, out, env: {} })).rejects.toMatchObject({ code: "E_BUNDLE_RECIPE", message: expect.stringContaining("conntrack_1%3a1.4.7-1+b2_amd64.deb") });
    const { existsSync } = await import("node:fs");
    expect(existsSync(out)).toBe(false);
    await buildBundle({ recipe: recipeFor("conntrack_1:1.4.7-1+b2_amd64.deb"), key: k.priv, out: join(work, "good.tar"), env: {} });
    expect(existsSync(join(work, "good.tar"))).toBe(true);
  });
});
