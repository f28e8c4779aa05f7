// Pushes OCI image layout archives (the tars tests/lab/build-images.sh writes) into a registry over the distribution
// v2 API, so `omstack bundle build` can pull the lab's images the way a production build pulls upstream ones.
// Each image goes to its own repository path without the registry host (registry.k8s.io/pause:3.10.1 → pause:3.10.1).
//
//   tsx tests/lab/push-oci.ts --registry http://127.0.0.1:5055 ARCHIVE.tar…   push, then print "NAME DIGEST" per image
//   tsx tests/lab/push-oci.ts --list ARCHIVE.tar…                            only print "NAME DIGEST" (no registry)
//
// Blobs the registry already holds (HEAD) are skipped; others are streamed out of the archive (POST, then PUT
// ?digest=), hashed on the way so a damaged archive is named before the registry refuses it.
import { createHash } from "node:crypto";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { digestOf, MT_DOCKER_LIST, MT_OCI_INDEX, MT_OCI_MANIFEST, parseImageRef, type Descriptor } from "../../installer/src/bundle/oci.js";
import { scanTar } from "../../installer/src/bundle/tar-read.js";

/** Blobs up to this size are kept in memory on the first pass (manifests, configs, small layers). */
const SMALL = 4 * 1024 * 1024;

/** One image an archive's index.json names, and where it goes in the registry. */
export interface ArchiveImage {
  name: string; // full name from io.containerd.image.name, e.g. registry.k8s.io/pause:3.10.1
  repository: string; // path without the registry host: pause, coredns/coredns
  tag: string;
  digest: string; // the manifest (or index) the name points at
  mediaType: string;
}

/** What one archive holds: its images, the small blobs in memory, and the size of every blob. */
export interface ArchiveContents {
  file: string;
  images: ArchiveImage[];
  small: Map<string, Buffer>;
  sizes: Map<string, number>;
}

/** The blob digest a layout path names (`blobs/sha256/<hex>`, with or without `./`), else null. */
export function blobDigestOf(path: string): string | null {
  const m = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
  return m ? `sha256:${m[1]}` : null;
}

/** The registry repository and tag for a full image name: the name without its registry host. */
export function targetOf(name: string): { repository: string; tag: string } | null {
  const r = parseImageRef(name);
  if (!r || r.digest || !r.tag) return null;
  return { repository: r.repository, tag: r.tag };
}

/** The images of an index.json: each entry must carry the io.containerd.image.name annotation. */
export function imagesOfIndex(file: string, indexBytes: Buffer): ArchiveImage[] {
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(indexBytes.toString("utf8")) as typeof index;
  } catch {
    throw new Error(`${file}: index.json is not JSON`);
  }
  const out: ArchiveImage[] = [];
  for (const d of index.manifests ?? []) {
    const name = d.annotations?.["io.containerd.image.name"];
    if (!name) throw new Error(`${file}: index.json entry ${d.digest} has no io.containerd.image.name annotation; name each image (build-images.sh does)`);
    const t = targetOf(name);
    if (!t) throw new Error(`${file}: "${name}" is not an image name with a tag (expected e.g. registry.k8s.io/pause:3.10.1)`);
    out.push({ name, ...t, digest: d.digest, mediaType: d.mediaType });
  }
  if (out.length === 0) throw new Error(`${file}: index.json lists no image`);
  return out;
}

/** First pass over an archive: index.json and the small blobs in memory, every blob's size. */
export async function readArchive(file: string): Promise<ArchiveContents> {
  let indexBytes: Buffer | undefined;
  const small = new Map<string, Buffer>();
  const sizes = new Map<string, number>();
  await scanTar(file, async (head, body) => {
    if (head.type !== "File") return;
    const path = head.path.replace(/^\.\//, "");
    const digest = blobDigestOf(path);
    if (path !== "index.json" && !(digest && head.size <= SMALL)) {
      if (digest) sizes.set(digest, head.size);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    if (digest) {
      small.set(digest, bytes);
      sizes.set(digest, bytes.length);
    } else indexBytes = bytes;
  });
  if (!indexBytes) throw new Error(`${file} is not an OCI image layout archive: it has no index.json`);
  return { file, images: imagesOfIndex(file, indexBytes), small, sizes };
}

/** A manifest or index parsed far enough to know what it references. */
interface Refs {
  mediaType: string;
  children: Descriptor[]; // manifests of an index
  blobs: Descriptor[]; // config and layers of a manifest
}

function refsOf(what: string, bytes: Buffer, mediaType: string): Refs {
  const m = JSON.parse(bytes.toString("utf8")) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  const mt = m.mediaType ?? mediaType;
  if (mt === MT_OCI_INDEX || mt === MT_DOCKER_LIST) return { mediaType: mt, children: m.manifests ?? [], blobs: [] };
  if (!m.config || !Array.isArray(m.layers)) throw new Error(`${what} is neither an image manifest nor an index`);
  return { mediaType: mt, children: [], blobs: [m.config, ...m.layers] };
}

/** A registry reached over the v2 API (no auth: a loopback registry of our own). */
export class RegistryPusher {
  readonly base: string;
  bytesSent = 0;
  blobsSent = 0;
  blobsSkipped = 0;

  constructor(base: string) {
    this.base = base.replace(/\/+$/, "");
  }

  /** True when the repository already has the blob. */
  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = await fetch(`${this.base}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw new Error(`HEAD ${this.base}/v2/${repo}/blobs/${digest}: HTTP ${r.status}`);
  }

  /** Monolithic upload: POST for an upload URL, then PUT the bytes with ?digest=; the body may be a stream. */
  async putBlob(repo: string, digest: string, size: number, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const start = await fetch(`${this.base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (start.status !== 202 || !location) throw new Error(`POST ${this.base}/v2/${repo}/blobs/uploads/: HTTP ${start.status}, expected 202 with a Location`);
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    const hash = createHash("sha256");
    let n = 0;
    const counted = async function* () {
      for await (const c of Buffer.isBuffer(body) ? [body] : body) {
        hash.update(c);
        n += c.length;
        yield c;
      }
    };
    const put = await fetch(url, {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: Readable.toWeb(Readable.from(counted())) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
    const text = await put.text();
    const got = `sha256:${hash.digest("hex")}`;
    if (got !== digest || n !== size) throw new Error(`blob ${digest} read from the archive as ${got} (${n} of ${size} bytes): the archive is damaged; rebuild it`);
    if (put.status !== 201) throw new Error(`PUT blob ${digest} to ${repo}: HTTP ${put.status} ${text.slice(0, 300)}`);
    this.bytesSent += n;
    this.blobsSent++;
  }

  /** Links a blob the registry holds under `from` into `repo` (cross-repository mount): no bytes travel. */
  async mountBlob(repo: string, digest: string, from: string): Promise<void> {
    const r = await fetch(`${this.base}/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { method: "POST" });
    await r.body?.cancel();
    if (r.status !== 201) throw new Error(`mounting ${digest} from ${from} into ${repo}: HTTP ${r.status}, expected 201`);
  }

  /** PUTs a manifest or index under a tag or digest; checks the digest the registry computed. */
  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<void> {
    const r = await fetch(`${this.base}/v2/${repo}/manifests/${ref}`, { method: "PUT", body: bytes, headers: { "Content-Type": mediaType } });
    const text = await r.text();
    if (r.status !== 201) throw new Error(`PUT manifest ${repo}:${ref}: HTTP ${r.status} ${text.slice(0, 300)}`);
    const echoed = r.headers.get("docker-content-digest");
    if (echoed && echoed !== digestOf(bytes)) throw new Error(`registry stored ${repo}:${ref} as ${echoed}, expected ${digestOf(bytes)}`);
  }

  /** True when the registry serves `repo@digest` (what `omstack bundle build` will ask for). */
  async hasManifest(repo: string, digest: string): Promise<boolean> {
    const r = await fetch(`${this.base}/v2/${repo}/manifests/${digest}`, { method: "HEAD", headers: { Accept: [MT_OCI_MANIFEST, MT_OCI_INDEX].join(", ") } });
    return r.status === 200;
  }
}

/** Pushes every image of one archive: blobs first (small from memory, large streamed on a second pass), then manifests. */
export async function pushArchive(pusher: RegistryPusher, a: ArchiveContents): Promise<void> {
  const manifestsToPut: { repo: string; ref: string; bytes: Buffer; mediaType: string }[] = [];
  const pending = new Map<string, Set<string>>(); // large blob digest → repositories that still need it
  for (const im of a.images) {
    const visit = async (d: { digest: string; mediaType: string }, ref: string): Promise<void> => {
      const bytes = a.small.get(d.digest);
      if (!bytes) throw new Error(`${a.file}: ${im.name} names ${d.digest}, which the archive lacks`);
      if (digestOf(bytes) !== d.digest) throw new Error(`${a.file}: ${d.digest} does not hash to its name: the archive is damaged`);
      const refs = refsOf(`${a.file}: ${d.digest}`, bytes, d.mediaType);
      for (const c of refs.children) await visit(c, c.digest);
      for (const b of refs.blobs) {
        if (await pusher.hasBlob(im.repository, b.digest)) {
          pusher.blobsSkipped++;
          continue;
        }
        const inMemory = a.small.get(b.digest);
        if (inMemory) await pusher.putBlob(im.repository, b.digest, b.size, inMemory);
        else if (a.sizes.has(b.digest)) pending.set(b.digest, (pending.get(b.digest) ?? new Set()).add(im.repository));
        else throw new Error(`${a.file}: ${im.name} needs blob ${b.digest}, which the archive lacks`);
      }
      manifestsToPut.push({ repo: im.repository, ref, bytes, mediaType: refs.mediaType });
    };
    await visit(im, im.tag);
  }
  if (pending.size > 0) {
    await scanTar(a.file, async (head, body) => {
      const d = blobDigestOf(head.path);
      const repos = d ? pending.get(d) : undefined;
      if (!d || !repos || head.type !== "File") return;
      const [first, ...rest] = [...repos];
      await pusher.putBlob(first!, d, head.size, body);
      // the same blob for another repository of this archive: the registry links it without a second upload
      for (const repo of rest) await pusher.mountBlob(repo, d, first!);
      pending.delete(d);
      return pending.size === 0 ? "stop" : undefined;
    });
    if (pending.size > 0) throw new Error(`${a.file}: blobs ${[...pending.keys()].join(", ")} are listed but missing from the archive`);
  }
  for (const m of manifestsToPut) await pusher.putManifest(m.repo, m.ref, m.bytes, m.mediaType);
}

function usage(msg: string): never {
  process.stderr.write(`push-oci: ${msg}\nusage: tsx tests/lab/push-oci.ts (--registry http://127.0.0.1:PORT | --list) ARCHIVE.tar…\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let registry: string | undefined;
  let list = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--registry") registry = argv[++i] ?? usage("--registry needs a URL");
    else if (a === "--list") list = true;
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else files.push(a);
  }
  if (files.length === 0) usage("no archive given");
  if (!list && !registry) usage("give --registry URL (or --list)");
  if (registry && !/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(registry)) usage(`--registry must be a loopback http://127.0.0.1:PORT URL, found "${registry}"`);
  const pusher = registry ? new RegistryPusher(registry) : undefined;
  for (const f of files) {
    const t0 = Date.now();
    const a = await readArchive(f);
    if (pusher) {
      const [sent, skipped, bytes] = [pusher.blobsSent, pusher.blobsSkipped, pusher.bytesSent];
      await pushArchive(pusher, a);
      for (const im of a.images) if (!(await pusher.hasManifest(im.repository, im.digest))) throw new Error(`${registry} does not serve ${im.repository}@${im.digest} after the push`);
      process.stderr.write(
        `push-oci: ${basename(f)} → ${a.images.map((i) => `${i.repository}:${i.tag}`).join(", ")}: ${pusher.blobsSent - sent} blobs pushed (${((pusher.bytesSent - bytes) / 1e6).toFixed(1)} MB), ${pusher.blobsSkipped - skipped} present, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
    for (const im of a.images) process.stdout.write(`${im.name} ${im.digest}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`push-oci: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
