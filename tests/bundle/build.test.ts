// Building the offline test recipe: reproducible bytes, the documented layout, and a bundle that verifies and extracts.
import { execFileSync } from "node:child_process";
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { extractBundle } from "../../installer/src/bundle/extract.js";
import { parseManifest } from "../../installer/src/bundle/manifest.js";
import { verifyBundle } from "../../installer/src/bundle/verify.js";
import { buildTest, keys, listing, sha, tempDir } from "./helpers.js";

describe("bundle build (bundle/recipes/test.yaml)", () => {
  it("gives byte-identical bundles for the same inputs, and different ones when an input changes", async () => {
    const dir = tempDir();
    const k = await keys(dir);
    const a = await buildTest(join(dir, "a.tar"), k.priv);
    const b = await buildTest(join(dir, "b.tar"), k.priv);
    expect(readFileSync(a.out).equals(readFileSync(b.out))).toBe(true);
    const c = await buildTest(join(dir, "c.tar"), k.priv, (r) => (r.version = "0.0.1-test"));
    expect(sha(readFileSync(c.out))).not.toBe(sha(readFileSync(a.out)));
    // no staging folder or partial file is left beside the output
    expect(listing(dir)).toEqual(["a.tar", "b.tar", "c.tar", "key", "key.pub"]);
  });

  it("takes the build time from SOURCE_DATE_EPOCH when the recipe has none", async () => {
    const dir = tempDir();
    const k = await keys(dir);
    const r = await buildTest(join(dir, "x.tar"), k.priv, (rec) => (rec.buildTime = undefined), { SOURCE_DATE_EPOCH: "1700000000" });
    expect(r.manifest.buildTime).toBe("2023-11-14T22:13:20Z");
    expect(execFileSync("tar", ["--utc", "-tvf", r.out], { encoding: "utf8" })).toContain("2023-11-14 22:13 bundle.json");
  });

  it("names the file omstack-<version>-<arch>.tar when --out is a folder", async () => {
    const dir = tempDir();
    const k = await keys(dir);
    const r = await buildTest(dir, k.priv);
    expect(r.out).toBe(join(dir, "omstack-0.0.0-test-amd64.tar"));
  });

  it("writes bundle.json first, the signature second, then sorted entries with fixed owners and mtimes", async () => {
    const dir = tempDir();
    const k = await keys(dir);
    const r = await buildTest(join(dir, "t.tar"), k.priv);
    const lines = execFileSync("tar", ["--utc", "--numeric-owner", "-tvf", r.out], { encoding: "utf8" }).trim().split("\n");
    const names = lines.map((l) => l.split(/\s+/)[5]!);
    expect(names.slice(0, 2)).toEqual(["bundle.json", "bundle.json.sig"]);
    expect(names.slice(2)).toEqual([...names.slice(2)].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    for (const l of lines) expect(l).toMatch(/^[-l]rw[-x]r[-w][-x]r[-w][-x] 0\/0 +\d+ 2025-01-01 00:00 /);
    const m = parseManifest(execFileSync("tar", ["-xOf", r.out, "bundle.json"]));
    expect(names.slice(2).sort()).toEqual([...m.files.map((f) => f.path), ...m.symlinks.map((l) => l.path)].sort());
    expect(m.images[0]).toMatchObject({ name: "omstack.local/test/hello:1.0", platform: "linux/amd64" });
    expect(m.charts[0]).toMatchObject({ name: "omstack-test", version: "0.1.0", appVersion: "1.0", path: "charts/omstack-test-0.1.0.tgz" });
    expect(m.packages.debian?.[0]).toMatchObject({ name: "omstack-test-marker", version: "1.0" });
    // the chart is a helm-style archive rooted at <name>/
    const chart = execFileSync("sh", ["-c", `tar -xOf '${r.out}' charts/omstack-test-0.1.0.tgz | tar -tzf -`], { encoding: "utf8" });
    expect(chart.trim().split("\n").sort()).toEqual(["omstack-test/Chart.yaml", "omstack-test/templates/deployment.yaml", "omstack-test/values.yaml"]);
  });

  it("verifies, and extracts into a new folder with modes and links as listed", async () => {
    const dir = tempDir();
    const k = await keys(dir);
    const r = await buildTest(join(dir, "t.tar"), k.priv);
    const v = await verifyBundle(r.out, [k.pubKey]);
    expect(v.files).toBe(r.manifest.files.length);
    expect(v.manifestSha256).toBe(r.manifestSha256);
    const to = join(dir, "x");
    await extractBundle(r.out, to, { trusted: [k.pubKey] });
    expect(statSync(join(to, "bin/omstack-hello")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(to, "bin/hello"))).toBe("omstack-hello");
    const index = JSON.parse(readFileSync(join(to, "images/index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests[0]!.annotations["io.containerd.image.name"]).toBe("omstack.local/test/hello:1.0");
    expect(sha(readFileSync(join(to, "images/blobs/sha256", index.manifests[0]!.digest.slice(7))))).toBe(index.manifests[0]!.digest.slice(7));
    await expect(extractBundle(r.out, to, { trusted: [k.pubKey] })).rejects.toMatchObject({ code: "E_BUNDLE_TARGET_EXISTS" });
  });
});
