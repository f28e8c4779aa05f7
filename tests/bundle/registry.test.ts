// Pulling by digest from a real registry on loopback (Debian's docker-registry), through faults put in by a loopback
// proxy: a corrupted blob, a dropped connection, 503s, token auth, a mirror. Plus URL downloads checked by sha256.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../../installer/src/bundle/build.js";
import { BlobStore, buildImageFromFolder, digestOf, MT_OCI_INDEX, type ImageParts } from "../../installer/src/bundle/oci.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { makePuller, RegistryClient, type RegistryOptions } from "../../installer/src/bundle/registry.js";
import { verifyBundle } from "../../installer/src/bundle/verify.js";
import { keys, sha, tempDir } from "./helpers.js";
import { pushImage, pushManifest, startProxy, startRegistry, type RunningRegistry } from "./registry-harness.js";

const FAST = { attempts: 4, baseDelayMs: 10 };
let work: string;
let reg: RunningRegistry;
let amd: ImageParts;
let arm: ImageParts;
let indexDigest: string;
let srcStore: BlobStore;
let k: Awaited<ReturnType<typeof keys>>;

beforeAll(async () => {
  work = tempDir("omstack-registry-");
  reg = await startRegistry(join(work, "registry"));
  k = await keys(work);
  // two images the test builds itself: a ~300 KiB incompressible layer so a mid-blob drop is mid-blob
  srcStore = new BlobStore(join(work, "src"));
  const ctx = join(work, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "noise.bin"), randomBytes(300 * 1024));
  writeFileSync(join(ctx, "hello.txt"), "hello from the registry test\n");
  amd = await buildImageFromFolder(srcStore, ctx, "linux/amd64", "2025-01-01T00:00:00Z");
  arm = await buildImageFromFolder(srcStore, ctx, "linux/arm64", "2025-01-01T00:00:00Z");
  await pushImage(reg.url, "test/hello", "1.0", srcStore, amd);
  await pushImage(reg.url, "test/hello", "arm", srcStore, arm);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT_OCI_INDEX,
      manifests: [
        { mediaType: arm.mediaType, digest: arm.manifestDigest, size: arm.manifestBytes.length, platform: { os: "linux", architecture: "arm64" } },
        { mediaType: amd.mediaType, digest: amd.manifestDigest, size: amd.manifestBytes.length, platform: { os: "linux", architecture: "amd64" } },
      ],
    }),
  );
  indexDigest = digestOf(index);
  await pushManifest(reg.url, "test/hello", "multi", index, MT_OCI_INDEX);
}, 60_000);

afterAll(async () => {
  await reg?.stop();
});

const client = (o: Partial<RegistryOptions> = {}) => new RegistryClient({ mirrors: [], retry: FAST, ...o });
const pull = (c: RegistryClient, host: string, digest = amd.manifestDigest) => c.pull(new BlobStore(tempDir("omstack-pull-")), host, "test/hello", digest, "linux/amd64");

describe("OCI registry client against docker-registry on loopback", () => {
  it("pulls an image by digest and stores every blob under its verified digest", async () => {
    const store = new BlobStore(tempDir("omstack-pull-"));
    const parts = await client().pull(store, reg.host, "test/hello", amd.manifestDigest, "linux/amd64");
    expect(parts.manifestDigest).toBe(amd.manifestDigest);
    expect(parts.platform).toEqual({ os: "linux", architecture: "amd64" });
    for (const l of parts.layers) expect(`sha256:${sha(await store.read(l.digest))}`).toBe(l.digest);
  });

  it("narrows a multi-platform index to the bundle's platform", async () => {
    const parts = await pull(client(), reg.host, indexDigest);
    expect(parts.manifestDigest).toBe(amd.manifestDigest);
    const armParts = await client().pull(new BlobStore(tempDir("omstack-pull-")), reg.host, "test/hello", indexDigest, "linux/arm64");
    expect(armParts.manifestDigest).toBe(arm.manifestDigest);
    await expect(client().pull(new BlobStore(tempDir("omstack-pull-")), reg.host, "test/hello", indexDigest, "linux/s390x")).rejects.toMatchObject({ code: "E_BUNDLE_FETCH", message: expect.stringMatching(/no image for linux\/s390x/) });
  });

  it("refuses a blob whose bytes do not match its digest, storing nothing", async () => {
    const layer = amd.layers[0]!.digest;
    const proxy = await startProxy(reg.host, (req) => (req.url?.endsWith(`/blobs/${layer}`) ? { transform: (b) => (b[100]! ^= 0xff, b) } : "forward"));
    try {
      const dir = tempDir("omstack-pull-");
      await expect(client().pull(new BlobStore(dir), proxy.host, "test/hello", amd.manifestDigest, "linux/amd64")).rejects.toMatchObject({
        code: "E_BUNDLE_SOURCE_DIGEST",
        message: expect.stringMatching(new RegExp(`blob from http://127\\.0\\.0\\.1:\\d+ should be ${layer}`)),
      });
      expect(readdirSync(join(dir, "blobs/sha256")).filter((n) => n === layer.slice(7) || n.startsWith("."))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("refuses a manifest whose bytes do not match the pinned digest", async () => {
    const proxy = await startProxy(reg.host, (req) => (req.url?.includes("/manifests/") ? { transform: (b) => Buffer.from(b.toString().replace('"schemaVersion":2', '"schemaVersion": 2')) } : "forward"));
    try {
      await expect(pull(client(), proxy.host)).rejects.toMatchObject({ code: "E_BUNDLE_SOURCE_DIGEST", message: expect.stringMatching(/manifest from .* should be/) });
    } finally {
      await proxy.close();
    }
  });

  it("resumes a blob download with Range after the connection drops mid-blob", async () => {
    const layer = amd.layers[0]!;
    let dropped = false;
    const proxy = await startProxy(reg.host, (req) => {
      if (!dropped && req.url?.endsWith(`/blobs/${layer.digest}`)) {
        dropped = true;
        return { dropAfter: 100 * 1024 };
      }
      return "forward";
    });
    try {
      const parts = await pull(client(), proxy.host);
      expect(parts.manifestDigest).toBe(amd.manifestDigest);
      expect(amd.layers[0]!.size).toBeGreaterThan(200 * 1024);
      const gets = proxy.requests.filter((r) => r.url.endsWith(`/blobs/${layer.digest}`));
      expect(gets).toHaveLength(2);
      expect(gets[1]!.range).toMatch(/^bytes=\d+-$/);
      expect(Number(/bytes=(\d+)-/.exec(gets[1]!.range!)![1])).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it("retries after 503 answers", async () => {
    let fails = 2;
    const proxy = await startProxy(reg.host, (req, res) => {
      if (req.url?.includes("/manifests/") && fails > 0) {
        fails--;
        res.writeHead(503).end("busy");
        return "handled";
      }
      return "forward";
    });
    try {
      await expect(pull(client(), proxy.host)).resolves.toMatchObject({ manifestDigest: amd.manifestDigest });
      expect(proxy.requests.filter((r) => r.url.includes("/manifests/")).length).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it("gets a bearer token when challenged, and reports refused credentials", async () => {
    let tokenCalls = 0;
    let realm = "";
    const proxy = await startProxy(reg.host, (req, res) => {
      if (req.url?.startsWith("/token")) {
        tokenCalls++;
        const u = new URL(req.url, "http://x");
        const basic = req.headers.authorization === `Basic ${Buffer.from("ci:secret").toString("base64")}`;
        if (!basic || u.searchParams.get("scope") !== "repository:test/hello:pull" || u.searchParams.get("service") !== "omstack-test") {
          res.writeHead(401).end();
          return "handled";
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "tok-123" }));
        return "handled";
      }
      if (req.headers.authorization !== "Bearer tok-123") {
        res.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="omstack-test",scope="repository:test/hello:pull"` }).end();
        return "handled";
      }
      return "forward";
    });
    realm = `${proxy.url}/token`;
    try {
      const creds = new Map([[proxy.host, { username: "ci", password: "secret" }]]);
      await expect(pull(client({ credentials: creds }), proxy.host)).resolves.toMatchObject({ manifestDigest: amd.manifestDigest });
      expect(tokenCalls).toBe(1); // one token reused for manifest and blobs
      const wrong = new Map([[proxy.host, { username: "ci", password: "nope" }]]);
      await expect(pull(client({ credentials: wrong }), proxy.host)).rejects.toMatchObject({ code: "E_REGISTRY_AUTH", message: expect.stringMatching(/token service .* answered HTTP 401/) });
    } finally {
      await proxy.close();
    }
  });

  it("pulls through --registry-mirror when the registry itself is unreachable", async () => {
    const deadPort = (await import("./registry-harness.js")).freePort;
    const dead = `127.0.0.1:${await deadPort()}`;
    const c = client({ mirrors: [{ host: dead, url: reg.url }] });
    await expect(pull(c, dead)).resolves.toMatchObject({ manifestDigest: amd.manifestDigest });
    await expect(pull(client(), dead)).rejects.toMatchObject({ code: "E_BUNDLE_FETCH" });
  });

  it("builds and verifies a bundle whose image comes from the registry", async () => {
    const out = join(work, "from-registry.tar");
    const recipe = parseRecipe(`version: 1.0.0\nbuildTime: "2025-01-01T00:00:00Z"\nimages:\n  - name: ${reg.host}/test/hello:multi@${indexDigest}\n`, join(work, "r.yaml"));
    const r = await buildBundle({ recipe, key: k.priv, out, env: {}, pull: makePuller({ mirrors: [], retry: FAST }) });
    expect(r.manifest.images[0]).toMatchObject({ name: `${reg.host}/test/hello:multi`, digest: amd.manifestDigest, indexDigest, platform: "linux/amd64" });
    await expect(verifyBundle(out, [k.pubKey])).resolves.toMatchObject({ files: 2 + 3 });
  });

  it("leaves no bundle and no partial file when a pulled blob is corrupt", async () => {
    const layer = amd.layers[0]!.digest;
    const proxy = await startProxy(reg.host, (req) => (req.url?.endsWith(`/blobs/${layer}`) ? { transform: (b) => (b[7]! ^= 1, b) } : "forward"));
    try {
      const dir = tempDir("omstack-build-");
      const recipe = parseRecipe(`version: 1.0.0\nimages:\n  - name: ${proxy.host}/test/hello:1.0@${amd.manifestDigest}\n`, join(dir, "r.yaml"));
      await expect(buildBundle({ recipe, key: k.priv, out: join(dir, "b.tar"), env: {}, pull: makePuller({ mirrors: [], retry: FAST }) })).rejects.toMatchObject({ code: "E_BUNDLE_SOURCE_DIGEST" });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe("binaries from URLs", () => {
  let server: Server;
  let base = "";
  const body = Buffer.from("#!/bin/sh\necho pretend-kubectl\n");
  const wrongRecipe = (url: string, digest: string, dir: string) => parseRecipe(`version: 1.0.0\nfiles:\n  - path: bin/kubectl\n    url: ${url}\n    sha256: "${digest}"\n`, join(dir, "r.yaml"));
  let hits = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url === "/kubectl") res.writeHead(200, { "content-length": String(body.length) }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const a = server.address();
    base = `http://127.0.0.1:${a && typeof a === "object" ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("downloads a binary whose sha256 matches the recipe", async () => {
    const dir = tempDir("omstack-url-");
    const r = await buildBundle({ recipe: wrongRecipe(`${base}/kubectl`, sha(body), dir), key: k.priv, out: join(dir, "b.tar"), env: {} });
    expect(r.manifest.files).toEqual([{ path: "bin/kubectl", size: body.length, sha256: sha(body), mode: 0o755 }]);
    expect(readdirSync(dir)).toEqual(["b.tar"]);
  });

  it("refuses a binary whose sha256 differs, leaving nothing behind", async () => {
    const dir = tempDir("omstack-url-");
    await expect(buildBundle({ recipe: wrongRecipe(`${base}/kubectl`, "0".repeat(64), dir), key: k.priv, out: join(dir, "b.tar"), env: {} })).rejects.toMatchObject({
      code: "E_BUNDLE_SOURCE_DIGEST",
      message: expect.stringMatching(/kubectl has sha256 [0-9a-f]{64}; the recipe pins 0{64}/),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("reports a URL that answers 404 without retrying it", async () => {
    const dir = tempDir("omstack-url-");
    const before = hits;
    await expect(buildBundle({ recipe: wrongRecipe(`${base}/missing`, sha(body), dir), key: k.priv, out: join(dir, "b.tar"), env: {} })).rejects.toMatchObject({
      code: "E_BUNDLE_FETCH",
      message: expect.stringMatching(/answered HTTP 404/),
    });
    expect(hits - before).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});
