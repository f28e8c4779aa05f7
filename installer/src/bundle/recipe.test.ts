import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { OmstackError } from "../errors.js";
import { parseRecipe, resolveBuildTime } from "./recipe.js";

const testRecipe = resolve("bundle/recipes/test.yaml");

describe("parseRecipe", () => {
  it("reads bundle/recipes/test.yaml with paths resolved against its folder", () => {
    const r = parseRecipe(readFileSync(testRecipe, "utf8"), testRecipe);
    expect(r).toMatchObject({ name: "omstack", version: "0.0.0-test", arch: "amd64", buildTime: "2025-01-01T00:00:00Z" });
    expect(r.images[0]).toEqual({ name: "omstack.local/test/hello:1.0", source: { kind: "build", context: resolve("bundle/images/hello"), cmd: ["/hello.txt"] } });
    expect(r.charts[0]).toEqual({ path: resolve("bundle/charts/omstack-test") });
    expect(r.files.find((f) => f.path === "bin/hello")).toEqual({ path: "bin/hello", symlink: "omstack-hello" });
  });

  const bad = (text: string): OmstackError => {
    try {
      parseRecipe(text, "/r/recipe.yaml");
    } catch (e) {
      if (e instanceof OmstackError) return e;
      throw e;
    }
    throw new Error("accepted");
  };

  it.each([
    ["version: 1.0\nimages:\n  - name: docker.io/library/nginx:1.27\n", /not pinned by digest/, 3],
    ["version: 1.0\nfiles:\n  - path: ../x\n    content: a\n", /climbs/, 3],
    ["version: 1.0\nfiles:\n  - path: bin/x\n    url: http://127.0.0.1/x\n", /published sha256/, 4],
    ["version: 1.0\nfiles:\n  - path: bin/x\n", /exactly one of/, 3],
    ["version: 1.0\nfiles:\n  - {path: bin/x, content: a}\n  - {path: bin/x, content: b}\n", /placed twice/, 4],
    ["version: 1.0\nfiles:\n  - {path: bin/x, content: a, mode: '4755'}\n", /mode must be/, 3],
    ["version: 1.0\nfiles:\n  - {path: images/x, content: a}\n", /filled from images/, 3],
    ["version: 1.0\nbogus: 1\n", /unknown field "bogus"/, 2],
    ["version: 1.0\narch: sparc\n", /amd64 or arm64/, 2],
    ["files: [\n", /YAML syntax error/, 2],
    ["version: 1.0\ncharts:\n  - {repo: ftp://x/charts, name: a, version: 1.0.0}\n", /http:\/\/ or https:\/\/ URL/, 3],
    ["version: 1.0\ncharts:\n  - {repo: https://x/charts, path: ./c, name: a, version: 1.0.0}\n", /either path: .* or repo:/, 3],
    ["version: 1.0\ncharts:\n  - {repo: https://x/charts, name: A_b, version: 1.0.0}\n", /a chart name/, 3],
    ["version: 1.0\ncharts:\n  - {repo: https://x/charts, name: a, version: 1.0.0, sha256: abc}\n", /64 lower-case hex/, 3],
  ])("refuses bad input with a location: %j", (text, re, line) => {
    const e = bad(text);
    expect(e.code).toBe("E_BUNDLE_RECIPE");
    expect(e.message).toMatch(re);
    expect(e.location?.file).toBe("/r/recipe.yaml");
    expect(e.location?.line).toBe(line);
  });
});

describe("chart repository entries", () => {
  it("parses repo, name, version and an optional pin", () => {
    const r = parseRecipe(`version: 1.0\ncharts:\n  - repo: https://charts.example/stable\n    name: hello\n    version: "0.9.1"\n    sha256: ${"a".repeat(64)}\n`, "/r/recipe.yaml");
    expect(r.charts).toEqual([{ repo: "https://charts.example/stable", name: "hello", version: "0.9.1", sha256: "a".repeat(64) }]);
  });
});

describe("resolveBuildTime", () => {
  const r = parseRecipe("version: 1.0\n", join("/r", "x.yaml"));
  it("prefers the recipe, then SOURCE_DATE_EPOCH, then now", () => {
    expect(resolveBuildTime({ ...r, buildTime: "2024-02-03T04:05:06Z" }, { SOURCE_DATE_EPOCH: "0" })).toBe("2024-02-03T04:05:06Z");
    expect(resolveBuildTime(r, { SOURCE_DATE_EPOCH: "1700000000" })).toBe("2023-11-14T22:13:20Z");
    expect(resolveBuildTime(r, {}, () => new Date("2030-01-01T00:00:00.123Z"))).toBe("2030-01-01T00:00:00Z");
  });
  it("refuses a SOURCE_DATE_EPOCH that is not whole seconds", () => {
    expect(() => resolveBuildTime(r, { SOURCE_DATE_EPOCH: "last tuesday" })).toThrow(expect.objectContaining({ code: "E_BUNDLE_RECIPE" }));
  });
});
