import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartDownloadUrl, findChart, indexUrl, parseChartIndex } from "./chart-repo.js";

// a real index.yaml (tests/bundle/fixtures/SOURCE.md)
const REAL = readFileSync(join(import.meta.dirname, "../../../tests/bundle/fixtures/helm-repo-index.yaml"), "utf8");
const URL_ = "https://charts.example/index.yaml";

describe("parseChartIndex on a real index.yaml", () => {
  const idx = parseChartIndex(REAL, URL_);
  it("lists every chart and version with its digest and URLs", () => {
    expect([...idx.keys()]).toEqual(["hello", "hello-app"]);
    expect(idx.get("hello")!.map((e) => e.version)).toEqual(["0.9.1", "0.9.0"]);
    expect(idx.get("hello-app")![0]).toEqual({
      name: "hello-app",
      version: "0.8.0",
      appVersion: "0.1.0",
      digest: "ec8bdd85f2ad56d552a2751acb170736368e9fc1c5e2e67e873b4b1c1334e5a7",
      urls: ["https://github.com/caju-org/hello-helm/releases/download/hello-app-0.8.0/hello-app-0.8.0.tgz"],
    });
  });
  it("finds name@version, or lists what the repository has", () => {
    expect(findChart(idx, { repo: "https://c.example", name: "hello", version: "0.9.0" }).digest).toBe("925d74dac13286ef18d8c9d2941b0be96faef033022d2f6cb053c57856bd9adf");
    expect(() => findChart(idx, { repo: "https://c.example", name: "hello", version: "1.0.0" })).toThrow(/has no version 1\.0\.0 .*it has 0\.9\.1, 0\.9\.0/);
    expect(() => findChart(idx, { repo: "https://c.example", name: "nginx", version: "1.0.0" })).toThrow(/chart nginx is not in https:\/\/c\.example\/index\.yaml; it lists 2 chart\(s\): hello, hello-app/);
  });
  it("keeps absolute URLs and resolves relative ones against the repository", () => {
    const e = findChart(idx, { repo: "https://c.example", name: "hello", version: "0.9.1" });
    expect(chartDownloadUrl(e, "https://c.example/sub")).toBe(e.urls[0]);
    expect(chartDownloadUrl({ ...e, urls: ["hello-0.9.1.tgz"] }, "https://c.example/sub/")).toBe("https://c.example/sub/hello-0.9.1.tgz");
    expect(indexUrl("https://c.example/sub//")).toBe("https://c.example/sub/index.yaml");
  });
});

describe("parseChartIndex on bad input", () => {
  it.each([
    ["entries: [1, 2", /YAML error/],
    ["- a list", /not a mapping/],
    ["apiVersion: v1\n", /no entries: mapping/],
    ["entries:\n  x: 3\n", /entries\.x is not a list/],
    ["entries:\n  x:\n  - name: x\n", /entries\.x\[0\] has no version/],
  ])("%j", (text, re) => expect(() => parseChartIndex(text, URL_)).toThrow(re));
  it("a digest that is not sha256 hex counts as none", () => {
    const idx = parseChartIndex("entries:\n  x:\n  - version: 1.0.0\n    digest: md5:abc\n    urls: [x.tgz]\n", URL_);
    expect(idx.get("x")![0]!.digest).toBeNull();
  });
});
