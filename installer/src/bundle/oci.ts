// OCI image pieces shared by the builder, the registry client and tests: references, descriptors, a content-addressed
// blob store on disk, the image layout written into images/, and a tiny deterministic one-layer image builder.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { OmstackError } from "../errors.js";
import { comparePaths } from "./paths.js";
import { tarChunks, type TarEntry } from "./tar-write.js";

export const MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/** A content descriptor as in the OCI image spec. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** A parsed image reference: registry host, repository path, tag and/or digest. */
export interface ImageRef {
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses `[host[:port]/]path[:tag][@sha256:hex]` the way Docker does (docker.io and library/ implied). */
export function parseImageRef(ref: string): ImageRef | null {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return null;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return null;
  }
  const parts = rest.split("/");
  let registry = "docker.io";
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    parts.shift();
  }
  if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) return null;
  if (!tag && !digest) tag = "latest";
  return { registry, repository, tag, digest };
}

/** `registry/repository[:tag]`: the name an image runs under (no digest). */
export function imageName(r: ImageRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}`;
}

/** Canonical form used to compare references found in charts with images.lock: name plus digest when pinned. */
export function normalizeRef(ref: string): string | null {
  const r = parseImageRef(ref);
  if (!r) return null;
  return imageName(r) + (r.digest ? `@${r.digest}` : "");
}

/** sha256 digest string of bytes. */
export function digestOf(b: Buffer): string {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}

/** Content-addressed blobs on disk (blobs/sha256/<hex>), written through a temporary name and verified before rename. */
export class BlobStore {
  constructor(readonly root: string) {}

  pathOf(digest: string): string {
    return join(this.root, "blobs", "sha256", digest.slice("sha256:".length));
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.pathOf(digest)).then(
      () => true,
      () => false,
    );
  }

  /** Stores bytes already in memory. */
  async putBytes(data: Buffer): Promise<string> {
    const digest = digestOf(data);
    await this.putStream(Readable.from([data]), digest, data.length);
    return digest;
  }

  /** Streams a blob in; the digest and size are checked before the blob becomes visible under its name. */
  async putStream(src: Readable | AsyncIterable<Buffer>, digest: string, size?: number): Promise<void> {
    if (await this.has(digest)) {
      if (src instanceof Readable) src.destroy();
      return;
    }
    const dir = join(this.root, "blobs", "sha256");
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${randomBytes(6).toString("hex")}`);
    const hash = createHash("sha256");
    let n = 0;
    try {
      await pipeline(
        src,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const c of source) {
            hash.update(c);
            n += c.length;
            yield c;
          }
        },
        createWriteStream(tmp, { flags: "wx", mode: 0o644 }),
      );
      const got = `sha256:${hash.digest("hex")}`;
      if (got !== digest || (size !== undefined && n !== size)) {
        throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", `blob ${digest} arrived as ${got} (${n} bytes${size !== undefined ? `, ${size} expected` : ""})`, {
          remedy: "the source served different bytes than it promised: check the registry or mirror, then build again",
          details: { expected: digest, found: got },
        });
      }
      await rename(tmp, this.pathOf(digest));
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async read(digest: string): Promise<Buffer> {
    return readFile(this.pathOf(digest));
  }

  open(digest: string): Readable {
    return createReadStream(this.pathOf(digest));
  }
}

/** The parts of an image once its manifest is known: manifest bytes and every blob it references. */
export interface ImageParts {
  manifestDigest: string;
  manifestBytes: Buffer;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  platform: { os: string; architecture: string; variant?: string };
}

/** Reads an image manifest and its config (already in `store`) into ImageParts; throws E_BUNDLE_MALFORMED-ish source errors. */
export async function describeImage(store: BlobStore, manifestBytes: Buffer, fallbackPlatform: string): Promise<ImageParts> {
  let m: { mediaType?: string; config?: Descriptor; layers?: Descriptor[] };
  try {
    m = JSON.parse(manifestBytes.toString("utf8")) as typeof m;
  } catch {
    throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", "an image manifest is not JSON", { remedy: "check the image source" });
  }
  if (!m.config || !Array.isArray(m.layers)) {
    throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", "an image manifest has no config or layers", { remedy: "pin an image manifest (or index) digest" });
  }
  const [os = "linux", architecture = "amd64", variant] = fallbackPlatform.split("/");
  let platform: ImageParts["platform"] = variant ? { os, architecture, variant } : { os, architecture };
  if (await store.has(m.config.digest)) {
    try {
      const cfg = JSON.parse((await store.read(m.config.digest)).toString("utf8")) as { os?: string; architecture?: string; variant?: string };
      if (cfg.os && cfg.architecture) platform = cfg.variant ? { os: cfg.os, architecture: cfg.architecture, variant: cfg.variant } : { os: cfg.os, architecture: cfg.architecture };
    } catch {
      /* keep the fallback platform */
    }
  }
  return {
    manifestDigest: digestOf(manifestBytes),
    manifestBytes,
    mediaType: m.mediaType ?? MT_OCI_MANIFEST,
    config: m.config,
    layers: m.layers,
    platform,
  };
}

/** `os/arch[/variant]`. */
export function platformString(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const abs = join(d, ent.name);
      if (ent.isDirectory()) await walk(abs);
      else if (ent.isFile()) out.push(relative(dir, abs).split("\\").join("/"));
    }
  };
  await walk(dir);
  return out.sort(comparePaths);
}

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

/** A deterministic tar of a folder's regular files (sorted, owner 0, fixed mtime): also how charts are packaged. */
export async function tarFolder(dir: string, mtime: number, prefix = ""): Promise<Buffer> {
  const entries: TarEntry[] = [];
  for (const rel of await listFiles(dir)) {
    const abs = join(dir, rel);
    const st = await stat(abs);
    entries.push({ type: "file", path: prefix + rel, mode: st.mode & 0o111 ? 0o755 : 0o644, size: st.size, open: () => createReadStream(abs) });
  }
  return collect(tarChunks(entries, { mtime }));
}

/** Builds a one-layer image from a folder, deterministically; stores its blobs and returns the parts. */
export async function buildImageFromFolder(store: BlobStore, dir: string, platform: string, created: string, cmd?: string[]): Promise<ImageParts> {
  const mtime = Math.floor(Date.parse(created) / 1000);
  const layerTar = await tarFolder(dir, mtime);
  const layerGz = gzipSync(layerTar, { level: 9 });
  const [os = "linux", architecture = "amd64", variant] = platform.split("/");
  const config = {
    architecture,
    os,
    ...(variant ? { variant } : {}),
    created,
    config: cmd ? { Cmd: cmd } : {},
    rootfs: { type: "layers", diff_ids: [digestOf(layerTar)] },
    history: [{ created, created_by: "omstack bundle: image from a local folder" }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const layerDigest = await store.putBytes(layerGz);
  const configDigest = await store.putBytes(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MT_OCI_MANIFEST,
    config: { mediaType: MT_OCI_CONFIG, digest: configDigest, size: configBytes.length },
    layers: [{ mediaType: MT_OCI_LAYER_GZIP, digest: layerDigest, size: layerGz.length }],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  await store.putBytes(manifestBytes);
  return describeImage(store, manifestBytes, platform);
}

/** Reads one image out of an OCI image layout folder, by manifest digest or by its ref.name / containerd name annotation. */
export async function importFromLayout(store: BlobStore, layoutDir: string, want: { digest?: string; name?: string }, platform: string): Promise<ImageParts> {
  const src = new BlobStore(layoutDir);
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(await readFile(join(layoutDir, "index.json"), "utf8")) as typeof index;
  } catch (e) {
    throw new OmstackError("E_BUNDLE_RECIPE", `${layoutDir} is not an OCI image layout (index.json unreadable)`, { remedy: "point layout: at a folder holding oci-layout, index.json and blobs/", cause: e });
  }
  const found = (index.manifests ?? []).find(
    (d) =>
      (want.digest && d.digest === want.digest) ||
      (!want.digest && want.name && (d.annotations?.["io.containerd.image.name"] === want.name || d.annotations?.["org.opencontainers.image.ref.name"] === want.name)),
  );
  if (!found) {
    throw new OmstackError("E_BUNDLE_RECIPE", `${layoutDir} holds no image ${want.digest ?? want.name ?? "?"}`, { remedy: "check the image's digest or name against the layout's index.json" });
  }
  const copy = async (d: string) => {
    if (!(await src.has(d))) throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${layoutDir} lacks blob ${d}`, { remedy: "the layout is incomplete; export it again" });
    await store.putStream(src.open(d), d);
  };
  await copy(found.digest);
  const parts = await describeImage(store, await store.read(found.digest), platform);
  await copy(parts.config.digest);
  for (const l of parts.layers) await copy(l.digest);
  return describeImage(store, parts.manifestBytes, platform);
}

/** index.json of the bundle's images/ layout: one entry per image, sorted by name, named for containerd and OCI tools. */
export function layoutIndex(images: { name: string; parts: ImageParts }[]): Buffer {
  const manifests = [...images]
    .sort((a, b) => comparePaths(a.name, b.name))
    .map(({ name, parts }) => {
      const r = parseImageRef(name);
      return {
        mediaType: parts.mediaType,
        digest: parts.manifestDigest,
        size: parts.manifestBytes.length,
        platform: parts.platform,
        annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": r?.tag ?? name },
      };
    });
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT_OCI_INDEX, manifests }, null, 2) + "\n");
}

/** The fixed oci-layout marker file. */
export const OCI_LAYOUT_FILE = Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" }) + "\n");

/** Writes a whole OCI image layout folder (tests use it to hand an image to the layout source and the registry). */
export async function writeLayoutFolder(dir: string, store: BlobStore, images: { name: string; parts: ImageParts }[]): Promise<void> {
  const out = new BlobStore(dir);
  await mkdir(dir, { recursive: true });
  for (const { parts } of images) {
    for (const d of [parts.manifestDigest, parts.config.digest, ...parts.layers.map((l) => l.digest)]) await out.putStream(store.open(d), d);
  }
  await writeFile(join(dir, "oci-layout"), OCI_LAYOUT_FILE);
  await writeFile(join(dir, "index.json"), layoutIndex(images));
}
