// push-oci.ts against a real registry on loopback (Debian's docker-registry, tests/system-packages.txt): an OCI layout
// archive with two images sharing a >4 MiB layer goes in, and the bundle's own registry client pulls both back by
// digest through a --registry-mirror, as `omstack bundle build` does for the lab bundle.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create as tarCreate } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobStore, buildImageFromFolder, writeLayoutFolder, type ImageParts } from "../../installer/src/bundle/oci.js";
import { RegistryClient } from "../../installer/src/bundle/registry.js";
import { tempDir } from "../bundle/helpers.js";
import { startRegistry, type RunningRegistry } from "../bundle/registry-harness.js";
import { blobDigestOf, imagesOfIndex, pushArchive, readArchive, RegistryPusher, targetOf } from "./push-oci.js";

let work: string;
let reg: RunningRegistry;
let store: BlobStore;
let a: ImageParts;
let b: ImageParts;
let archive: string;

/** Packs an OCI layout folder into a tar the way build-images.sh does (oci-layout, index.json, blobs/). */
async function pack(dir: string, file: string): Promise<string> {
  await tarCreate({ cwd: dir, file, portable: true }, ["oci-layout", "index.json", "blobs"]);
  return file;
}

beforeAll(async () => {
  work = tempDir("omstack-push-oci-");
  reg = await startRegistry(join(work, "registry"));
  store = new BlobStore(join(work, "store"));
  const ctx = join(work, "ctx");
  mkdirSync(ctx);
  writeFileSync(join(ctx, "big.bin"), randomBytes(5 * 1024 * 1024)); // incompressible: the layer stays > 4 MiB, so it streams
  a = await buildImageFromFolder(store, ctx, "linux/amd64", "2025-01-01T00:00:00Z", ["/a"]);
  b = await buildImageFromFolder(store, ctx, "linux/amd64", "2025-01-01T00:00:00Z", ["/b"]);
  const layout = join(work, "layout");
  await writeLayoutFolder(layout, store, [
    { name: "registry.k8s.io/lab-a:v1", parts: a },
    { name: "registry.k8s.io/team/lab-b:2.0-0", parts: b },
  ]);
  archive = await pack(layout, join(work, "two.tar"));
}, 60_000);

afterAll(async () => {
  await reg?.stop();
});

describe("push-oci: names", () => {
  it("drops the registry host and keeps the repository path and tag", () => {
    expect(targetOf("registry.k8s.io/coredns/coredns:v1.12.1")).toEqual({ repository: "coredns/coredns", tag: "v1.12.1" });
    expect(targetOf("omstack.lab/echo:v1")).toEqual({ repository: "echo", tag: "v1" });
    expect(targetOf(`registry.k8s.io/pause@sha256:${"a".repeat(64)}`)).toBeNull();
  });

  it("knows blob paths with and without ./", () => {
    expect(blobDigestOf(`./blobs/sha256/${"b".repeat(64)}`)).toBe(`sha256:${"b".repeat(64)}`);
    expect(blobDigestOf("index.json")).toBeNull();
  });

  it("refuses an index entry without io.containerd.image.name, saying how to fix it", () => {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: a.mediaType, digest: a.manifestDigest, size: a.manifestBytes.length }] }));
    expect(() => imagesOfIndex("x.tar", idx)).toThrow(/x\.tar: index\.json entry sha256:[0-9a-f]{64} has no io\.containerd\.image\.name annotation/);
    expect(() => imagesOfIndex("x.tar", Buffer.from("{"))).toThrow(/x\.tar: index\.json is not JSON/);
  });
});

describe("push-oci against docker-registry on loopback", () => {
  it("pushes both images (the shared layer once, mounted into the second repository), then the bundle's client pulls them through a mirror", async () => {
    const pusher = new RegistryPusher(reg.url);
    const contents = await readArchive(archive);
    expect(contents.images.map((i) => [i.name, i.repository, i.tag, i.digest])).toEqual([
      ["registry.k8s.io/lab-a:v1", "lab-a", "v1", a.manifestDigest],
      ["registry.k8s.io/team/lab-b:2.0-0", "team/lab-b", "2.0-0", b.manifestDigest],
    ]);
    await pushArchive(pusher, contents);
    expect(pusher.blobsSent).toBe(3); // two configs, one layer
    expect(await pusher.hasManifest("team/lab-b", b.manifestDigest)).toBe(true);
    expect(await pusher.hasBlob("team/lab-b", a.layers[0]!.digest)).toBe(true);

    const client = new RegistryClient({ mirrors: [{ host: "registry.k8s.io", url: reg.url }], retry: { attempts: 1, baseDelayMs: 1 } });
    const pulled = new BlobStore(join(work, "pulled"));
    const pa = await client.pull(pulled, "registry.k8s.io", "lab-a", a.manifestDigest, "linux/amd64");
    const pb = await client.pull(pulled, "registry.k8s.io", "team/lab-b", b.manifestDigest, "linux/amd64");
    expect(pa.manifestDigest).toBe(a.manifestDigest);
    expect(pb.config.digest).toBe(b.config.digest);
    expect((await pulled.read(a.layers[0]!.digest)).equals(await store.read(a.layers[0]!.digest))).toBe(true);
  });

  it("a second push sends nothing: every blob is already there", async () => {
    const pusher = new RegistryPusher(reg.url);
    await pushArchive(pusher, await readArchive(archive));
    expect(pusher.blobsSent).toBe(0);
    expect(pusher.blobsSkipped).toBe(4);
  });

  it("names a damaged layer in the archive instead of storing it", async () => {
    const layout = join(work, "damaged");
    await writeLayoutFolder(layout, store, [{ name: "registry.k8s.io/lab-damaged:v1", parts: a }]);
    const layerFile = join(layout, "blobs", "sha256", a.layers[0]!.digest.slice(7));
    const bytes = readFileSync(layerFile);
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(layerFile, bytes);
    const file = await pack(layout, join(work, "damaged.tar"));
    const pusher = new RegistryPusher(reg.url);
    await expect(pushArchive(pusher, await readArchive(file))).rejects.toThrow(/read from the archive as sha256:[0-9a-f]{64} .*the archive is damaged/);
    expect(await pusher.hasManifest("lab-damaged", a.manifestDigest)).toBe(false);
  });
});
