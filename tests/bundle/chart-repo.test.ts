// Charts from a Helm chart repository served on loopback: the archive enters the bundle byte for byte when it matches
// the index's digest; a tampered archive, a recipe pin that differs from the index, a missing version and a broken
// index are each a clear error with no bundle written.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../installer/src/bundle/verify.js";
import { buildTest, keys, REPO, sha, tempDir } from "./helpers.js";

let server: Server;
let base = "";
let tgz: Buffer;
const served: { index: string; tgz: Buffer } = { index: "", tgz: Buffer.alloc(0) };
const requests: string[] = [];

/** index.yaml as `helm repo index` shapes it, for our one chart, with a relative URL. */
function index(digest: string): string {
  return `apiVersion: v1\nentries:\n  omstack-test:\n  - apiVersion: v2\n    appVersion: "1.0"\n    digest: ${digest}\n    name: omstack-test\n    urls:\n    - omstack-test-0.1.0.tgz\n    version: 0.1.0\ngenerated: "2025-01-01T00:00:00Z"\n`;
}

beforeAll(async () => {
  const dir = tempDir("omstack-chartrepo-");
  execFileSync("tar", ["czf", join(dir, "c.tgz"), "-C", join(REPO, "bundle/charts"), "omstack-test"]);
  tgz = readFileSync(join(dir, "c.tgz"));
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/repo/index.yaml") res.writeHead(200, { "content-type": "application/x-yaml" }).end(served.index);
    else if (req.url === "/repo/omstack-test-0.1.0.tgz") res.writeHead(200).end(served.tgz);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  base = `http://127.0.0.1:${a && typeof a === "object" ? a.port : 0}/repo`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const fromRepo = (extra: Record<string, string> = {}) => (r: { charts: unknown[] }) => {
  r.charts = [{ repo: base, name: "omstack-test", version: "0.1.0", ...extra }];
};

describe("charts from a chart repository", () => {
  it("takes the archive as published, checked against the index's digest", async () => {
    served.index = index(sha(tgz));
    served.tgz = tgz;
    const dir = tempDir();
    const k = await keys(dir);
    const r = await buildTest(join(dir, "b.tar"), k.priv, fromRepo({ sha256: sha(tgz) }));
    expect(r.manifest.charts).toEqual([{ name: "omstack-test", version: "0.1.0", appVersion: "1.0", path: "charts/omstack-test-0.1.0.tgz", sha256: sha(tgz) }]);
    await verifyBundle(r.out, [k.pubKey]);
    expect(execFileSync("tar", ["-xOf", r.out, "charts/omstack-test-0.1.0.tgz"]).equals(tgz)).toBe(true);
    expect(requests).toContain("/repo/index.yaml");
  });

  it("refuses an archive whose bytes differ from the index's digest", async () => {
    served.index = index(sha(tgz));
    served.tgz = Buffer.concat([tgz, Buffer.from("x")]);
    const dir = tempDir();
    const k = await keys(dir);
    await expect(buildTest(join(dir, "b.tar"), k.priv, fromRepo())).rejects.toMatchObject({ code: "E_BUNDLE_SOURCE_DIGEST", message: expect.stringMatching(/omstack-test-0\.1\.0\.tgz has sha256 [0-9a-f]{64}; the recipe pins/) });
    expect(existsSync(join(dir, "b.tar"))).toBe(false);
  });

  it("refuses an index whose digest differs from the recipe's pin", async () => {
    served.index = index(sha("something else"));
    served.tgz = tgz;
    const dir = tempDir();
    const k = await keys(dir);
    await expect(buildTest(join(dir, "b.tar"), k.priv, fromRepo({ sha256: sha(tgz) }))).rejects.toMatchObject({ code: "E_BUNDLE_SOURCE_DIGEST", message: expect.stringMatching(/gives omstack-test 0\.1\.0 the digest .*; the recipe pins/) });
    expect(existsSync(join(dir, "b.tar"))).toBe(false);
  });

  it("names the versions the repository has when the recipe's is missing", async () => {
    served.index = index(sha(tgz));
    const dir = tempDir();
    const k = await keys(dir);
    await expect(buildTest(join(dir, "b.tar"), k.priv, fromRepo({ version: "9.9.9" }))).rejects.toMatchObject({ code: "E_BUNDLE_RECIPE", message: expect.stringMatching(/no version 9\.9\.9 .*it has 0\.1\.0/) });
  });

  it("reports a broken index and an unreachable repository", async () => {
    served.index = "entries: [oops";
    const dir = tempDir();
    const k = await keys(dir);
    await expect(buildTest(join(dir, "b.tar"), k.priv, fromRepo())).rejects.toMatchObject({ code: "E_BUNDLE_FETCH", message: expect.stringMatching(/is not a Helm repository index/) });
    await expect(
      buildTest(join(dir, "b.tar"), k.priv, (r) => (r.charts = [{ repo: base.replace("/repo", "/nothing"), name: "omstack-test", version: "0.1.0" }])),
    ).rejects.toMatchObject({ code: "E_BUNDLE_FETCH", message: expect.stringMatching(/cannot download .*\/nothing\/index\.yaml: .*404/) });
  });
});
