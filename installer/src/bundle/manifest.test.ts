import { describe, expect, it } from "vitest";
import { OmstackError } from "../errors.js";
import { parseManifest, serializeManifest, type BundleManifest } from "./manifest.js";

const H = (c: string) => c.repeat(64);
function sample(): BundleManifest {
  return {
    formatVersion: 1,
    name: "omstack",
    version: "1.2.0",
    arch: "amd64",
    buildTime: "2025-01-01T00:00:00Z",
    components: { kubernetes: "1.31.4", helm: "3.16.3" },
    files: [
      { path: "bin/helm", size: 10, sha256: H("a"), mode: 0o755 },
      { path: "charts/x-1.0.0.tgz", size: 5, sha256: H("b"), mode: 0o644 },
      { path: `images/blobs/sha256/${H("c")}`, size: 3, sha256: H("c"), mode: 0o644 },
      { path: `images/blobs/sha256/${H("d")}`, size: 3, sha256: H("d"), mode: 0o644 },
    ],
    symlinks: [{ path: "bin/k", target: "helm" }],
    images: [{ name: "docker.io/library/nginx:1.27", digest: `sha256:${H("c")}`, platform: "linux/amd64", size: 6, blobs: [`sha256:${H("d")}`] }],
    charts: [{ name: "x", version: "1.0.0", path: "charts/x-1.0.0.tgz", sha256: H("b") }],
    packages: { debian: [] },
  };
}
const parse = (m: unknown) => parseManifest(Buffer.from(JSON.stringify(m)));
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof OmstackError ? `${e.code}: ${e.message}` : String(e);
  }
  return "no error";
};

describe("bundle.json", () => {
  it("round-trips through serialize and parse, and serializes deterministically", () => {
    const bytes = serializeManifest(sample());
    expect(parseManifest(bytes)).toEqual(sample());
    expect(serializeManifest(parseManifest(bytes)).equals(bytes)).toBe(true);
    expect(bytes.toString().endsWith("}\n")).toBe(true);
  });

  it.each<[string, (m: BundleManifest & Record<string, unknown>) => void, RegExp]>([
    ["another format version", (m) => (m.formatVersion = 2), /format version 2 found/],
    ["a duplicate path", (m) => m.files.push({ ...m.files[0]! }), /twice|sorted/],
    ["unsorted files", (m) => m.files.reverse(), /sorted/],
    ["a bad sha256", (m) => (m.files[0]!.sha256 = "xyz"), /64 lower-case hex/],
    ["a setuid mode", (m) => (m.files[0]!.mode = 0o4755), /mode must be/],
    ["a traversal path", (m) => (m.files[0]!.path = "../bin/helm"), /climbs/],
    ["a file used as a folder", (m) => m.files.splice(1, 0, { path: "bin/helm/x", size: 1, sha256: H("e"), mode: 0o644 }), /sits under/],
    ["an escaping link", (m) => (m.symlinks[0]!.target = "../../etc/passwd"), /outside the bundle/],
    ["an image blob that is not listed", (m) => m.images[0]!.blobs.push(`sha256:${H("f")}`), /needs blob/],
    ["a chart that is not listed", (m) => (m.charts[0]!.path = "charts/y.tgz"), /which files does not list/],
    ["a reserved name", (m) => m.files.unshift({ path: "bundle.json", size: 1, sha256: H("e"), mode: 0o644 }), /reserved/],
    ["a bad build time", (m) => (m.buildTime = "yesterday"), /buildTime/],
  ])("refuses %s", (_, mutate, re) => {
    const m = sample() as BundleManifest & Record<string, unknown>;
    mutate(m);
    const got = code(() => parse(m));
    expect(got).toMatch(/^E_BUNDLE_MALFORMED/);
    expect(got).toMatch(re);
  });

  it("accepts a delta whose images and charts point at inherited files, and round-trips it", () => {
    const m = sample();
    const [helm, chart, cfg, layer] = m.files;
    m.files = [helm!];
    m.delta = { fromVersion: "1.1.0", fromManifestSha256: H("9"), inherited: [chart!, cfg!, layer!] };
    const bytes = serializeManifest(m);
    expect(parseManifest(bytes)).toEqual(m);
    m.delta.inherited.pop();
    expect(code(() => parse(m))).toMatch(/needs blob/);
  });

  it("refuses a path both carried and inherited", () => {
    const m = sample();
    m.delta = { fromVersion: "1.1.0", fromManifestSha256: H("9"), inherited: [{ ...m.files[0]! }] };
    expect(code(() => parse(m))).toMatch(/E_BUNDLE_MALFORMED: .*twice/);
  });

  it("refuses text that is not JSON", () => {
    expect(code(() => parseManifest(Buffer.from("{nope")))).toMatch(/^E_BUNDLE_MALFORMED: bundle.json is invalid: not JSON/);
  });
});
