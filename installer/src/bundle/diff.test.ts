import { describe, expect, it } from "vitest";
import { diffManifests, renderDiff } from "./diff.js";
import type { BundleManifest } from "./manifest.js";

const H = (c: string) => c.repeat(64);
const base: BundleManifest = {
  formatVersion: 1,
  name: "omstack",
  version: "1.0.0",
  arch: "amd64",
  buildTime: "2025-01-01T00:00:00Z",
  components: { kubernetes: "1.31.4", helm: "3.16.3" },
  files: [
    { path: "bin/a", size: 1, sha256: H("a"), mode: 0o755 },
    { path: "bin/b", size: 2, sha256: H("b"), mode: 0o755 },
  ],
  symlinks: [],
  images: [{ name: "x/y:1", digest: `sha256:${H("1")}`, platform: "linux/amd64", size: 1, blobs: [] }],
  charts: [{ name: "c", version: "1.0.0", path: "bin/a", sha256: H("a") }],
  packages: {},
};

describe("diffManifests", () => {
  it("finds nothing between a bundle and itself", () => {
    const d = diffManifests(base, base);
    expect(d.identical).toBe(true);
    expect(renderDiff(d)).toMatch(/no differences/);
  });

  it("lists added, removed and changed components, images, charts and files", () => {
    const next: BundleManifest = {
      ...base,
      version: "1.1.0",
      components: { kubernetes: "1.32.0", cni: "1.5.1" },
      files: [
        { path: "bin/a", size: 3, sha256: H("c"), mode: 0o755 },
        { path: "bin/c", size: 4, sha256: H("d"), mode: 0o755 },
      ],
      images: [{ ...base.images[0]!, digest: `sha256:${H("2")}` }],
      charts: [{ ...base.charts[0]!, version: "1.1.0" }],
    };
    const d = diffManifests(base, next);
    expect(d.identical).toBe(false);
    expect(d.components).toEqual({ added: [{ key: "cni", to: "1.5.1" }], removed: [{ key: "helm", from: "3.16.3" }], changed: [{ key: "kubernetes", from: "1.31.4", to: "1.32.0" }] });
    expect(d.files).toEqual({ added: [{ key: "bin/c", to: 4 }], removed: [{ key: "bin/b", from: 2 }], changed: [{ key: "bin/a", from: 1, to: 3 }] });
    expect(d.images.changed.map((c) => c.key)).toEqual(["x/y:1"]);
    expect(d.charts.changed).toEqual([{ key: "c", from: "1.0.0", to: "1.1.0" }]);
    const text = renderDiff(d);
    expect(text).toContain("~ kubernetes 1.31.4 → 1.32.0");
    expect(text).toContain("+ bin/c 4 B");
    expect(text).toContain("- bin/b 2 B");
  });
});
