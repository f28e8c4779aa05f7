// A small OCI distribution client: pulls an image by digest (manifest or index, then config and layers), with
// bearer-token and basic auth, retries, Range-resumed blob downloads, mirrors tried first, and every byte checked
// against its digest before it is stored under that digest.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { OmstackError } from "../errors.js";
import type { ImagePuller } from "./build.js";
import { backoff, DEFAULT_RETRY, HttpStatusError, isTransient, type RetryPolicy } from "./fetch.js";
import { BlobStore, describeImage, digestOf, MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST, type Descriptor, type ImageParts } from "./oci.js";

/** A mirror for one registry host: tried before the host itself. */
export interface Mirror {
  host: string; // registry host as written in image names, e.g. docker.io
  url: string; // base URL, e.g. http://127.0.0.1:5001
}

/** Username and password for a registry (basic auth, or to obtain a bearer token). */
export interface Credentials {
  username: string;
  password: string;
}

/** How the client reaches registries. */
export interface RegistryOptions {
  mirrors: Mirror[];
  credentials?: Map<string, Credentials>;
  retry?: RetryPolicy;
  /** Hosts reached over plain http besides loopback ones. */
  insecure?: string[];
  log?(line: string): void;
}

/** Parses `--registry-mirror host=url` values. */
export function parseMirrors(values: string[]): Mirror[] {
  return values.map((v) => {
    const eq = v.indexOf("=");
    const host = v.slice(0, eq);
    const url = v.slice(eq + 1).replace(/\/+$/, "");
    if (eq <= 0 || !/^https?:\/\/[^/\s]+$/.test(url)) {
      throw new OmstackError("E_USAGE", `--registry-mirror "${v}" is not host=URL`, { remedy: "write it like --registry-mirror docker.io=https://mirror.example:5000" });
    }
    return { host, url };
  });
}

/** Default base URL of a registry host: http for loopback and listed insecure hosts, https otherwise. */
export function registryBaseUrl(host: string, insecure: string[] = []): string {
  if (host === "docker.io") return "https://registry-1.docker.io";
  const bare = host.replace(/:\d+$/, "");
  const plain = bare === "localhost" || bare === "[::1]" || /^127\./.test(bare) || insecure.includes(host);
  return `${plain ? "http" : "https"}://${host}`;
}

/** The `key="value"` pairs of a WWW-Authenticate challenge. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const sp = header.indexOf(" ");
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(sp + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return { scheme, params };
}

const MANIFEST_ACCEPT = [MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST, MT_DOCKER_LIST].join(", ");

/** One client per build: remembers tokens per endpoint and repository. */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly retry: RetryPolicy;

  constructor(private readonly opts: RegistryOptions) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
  }

  /** Base URLs to try for a registry host: its mirrors first, then the host itself. */
  endpoints(host: string): string[] {
    return [...this.opts.mirrors.filter((m) => m.host === host).map((m) => m.url), registryBaseUrl(host, this.opts.insecure)];
  }

  private authHeader(base: string, repo: string, host: string): Record<string, string> {
    const t = this.tokens.get(`${base} ${repo}`);
    if (t) return { Authorization: t };
    return {};
  }

  /** Answers a 401 challenge: fetches a bearer token (or prepares basic auth); false when there is no way in. */
  private async authenticate(base: string, repo: string, host: string, challenge: string | null): Promise<void> {
    const creds = this.opts.credentials?.get(host);
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` : undefined;
    const c = parseChallenge(challenge ?? "");
    if (c.scheme === "basic") {
      if (!basic) throw authError(host, "asks for a username and password, and none is configured");
      this.tokens.set(`${base} ${repo}`, basic);
      return;
    }
    if (c.scheme !== "bearer" || !c.params.realm) throw authError(host, `answered 401 with an unsupported challenge "${challenge ?? ""}"`);
    const url = new URL(c.params.realm);
    if (c.params.service) url.searchParams.set("service", c.params.service);
    url.searchParams.set("scope", c.params.scope ?? `repository:${repo}:pull`);
    const res = await fetch(url, { headers: basic ? { Authorization: basic } : {} });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw authError(host, `token service ${url.origin}${url.pathname} answered HTTP ${res.status}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw authError(host, "token service answered without a token");
    this.tokens.set(`${base} ${repo}`, `Bearer ${token}`);
  }

  /** GET with auth and retries; `from` > 0 asks for a byte range. The caller consumes or cancels the body. */
  private async get(base: string, host: string, repo: string, path: string, headers: Record<string, string>): Promise<Response> {
    let authed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${base}${path}`, { headers: { ...headers, ...this.authHeader(base, repo, host) }, redirect: "follow" });
        if (res.status === 401 && !authed) {
          await res.body?.cancel();
          await this.authenticate(base, repo, host, res.headers.get("www-authenticate"));
          authed = true;
          attempt--;
          continue;
        }
        if (res.status === 401 || res.status === 403) {
          await res.body?.cancel();
          throw authError(host, `refused ${path} with HTTP ${res.status}`);
        }
        if (res.status !== 200 && res.status !== 206) {
          await res.body?.cancel();
          throw new HttpStatusError(`${base}${path}`, res.status);
        }
        return res;
      } catch (e) {
        if (!isTransient(e) || attempt >= this.retry.attempts - 1) throw e;
        this.opts.log?.(`retrying ${base}${path}: ${(e as Error).message}`);
        await backoff(this.retry, attempt);
      }
    }
  }

  /** Tries each endpoint in turn; returns the first success, or throws the last failure as E_BUNDLE_FETCH. */
  private async firstEndpoint<T>(host: string, what: string, fn: (base: string) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const base of this.endpoints(host)) {
      try {
        return await fn(base);
      } catch (e) {
        last = e;
        if (e instanceof OmstackError && e.code === "E_BUNDLE_SOURCE_DIGEST") throw e;
        this.opts.log?.(`${base}: ${what} failed: ${(e as Error).message}`);
      }
    }
    if (last instanceof OmstackError) throw last;
    throw new OmstackError("E_BUNDLE_FETCH", `cannot fetch ${what} from ${this.endpoints(host).join(" or ")}: ${(last as Error)?.message ?? "no endpoint"}`, {
      remedy: "check that the registry (or --registry-mirror) is reachable from the build machine and holds the image",
      cause: last,
    });
  }

  /** Fetches a manifest (or index) by digest and checks its bytes hash to that digest. */
  async manifest(host: string, repo: string, digest: string): Promise<{ bytes: Buffer; mediaType: string }> {
    return this.firstEndpoint(host, `${host}/${repo}@${digest}`, async (base) => {
      const res = await this.get(base, host, repo, `/v2/${repo}/manifests/${digest}`, { Accept: MANIFEST_ACCEPT });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (bytes.length > 4 * 1024 * 1024) throw new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${host}/${repo}@${digest}: the manifest is larger than 4 MiB`, { remedy: "check the registry" });
      const got = digestOf(bytes);
      if (got !== digest) throw digestError(`${host}/${repo} manifest`, digest, got, base);
      const mediaType = (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType ?? res.headers.get("content-type") ?? MT_OCI_MANIFEST;
      return { bytes, mediaType };
    });
  }

  /** Downloads a blob into the store, resuming with Range after a dropped connection; verified before it is named. */
  async blob(store: BlobStore, host: string, repo: string, d: Descriptor): Promise<void> {
    if (await store.has(d.digest)) return;
    const dir = join(store.root, "blobs", "sha256");
    await mkdir(dir, { recursive: true });
    const part = join(dir, `.pull-${d.digest.slice(7, 23)}-${randomBytes(4).toString("hex")}`);
    try {
      await this.firstEndpoint(host, `${host}/${repo} blob ${d.digest}`, async (base) => {
        await rm(part, { force: true });
        for (let attempt = 0; ; attempt++) {
          const have = await stat(part).then((s) => s.size, () => 0);
          try {
            const res = await this.get(base, host, repo, `/v2/${repo}/blobs/${d.digest}`, have > 0 ? { Range: `bytes=${have}-` } : {});
            const append = have > 0 && res.status === 206;
            if (!res.body) throw new Error("empty body");
            await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(part, { flags: append ? "a" : "w" }));
            break;
          } catch (e) {
            if (!isTransient(e) || attempt >= this.retry.attempts - 1) throw e;
            this.opts.log?.(`resuming ${d.digest} from ${await stat(part).then((s) => s.size, () => 0)} bytes: ${(e as Error).message}`);
            await backoff(this.retry, attempt);
          }
        }
        const h = createHash("sha256");
        let n = 0;
        for await (const c of createReadStream(part) as AsyncIterable<Buffer>) {
          h.update(c);
          n += c.length;
        }
        const got = `sha256:${h.digest("hex")}`;
        if (got !== d.digest || n !== d.size) throw digestError(`${host}/${repo} blob`, d.digest, `${got} (${n} of ${d.size} bytes)`, base);
      });
      await rename(part, store.pathOf(d.digest));
    } finally {
      await rm(part, { force: true });
    }
  }

  /** Pulls one image by digest; an index is narrowed to `platform` (os/arch). */
  async pull(store: BlobStore, host: string, repo: string, digest: string, platform: string): Promise<ImageParts> {
    let m = await this.manifest(host, repo, digest);
    if (m.mediaType === MT_OCI_INDEX || m.mediaType === MT_DOCKER_LIST) {
      const [os, arch, variant] = platform.split("/");
      const list = (JSON.parse(m.bytes.toString("utf8")) as { manifests?: Descriptor[] }).manifests ?? [];
      const pick = list.find((x) => x.platform?.os === os && x.platform?.architecture === arch && (!variant || x.platform?.variant === variant));
      if (!pick) {
        throw new OmstackError("E_BUNDLE_FETCH", `${host}/${repo}@${digest} has no image for ${platform} (it has ${list.map((x) => `${x.platform?.os}/${x.platform?.architecture}`).join(", ") || "none"})`, {
          remedy: "pin a digest that includes this architecture, or build the bundle for another arch",
        });
      }
      m = await this.manifest(host, repo, pick.digest);
    }
    await store.putBytes(m.bytes);
    const first = await describeImage(store, m.bytes, platform);
    await this.blob(store, host, repo, first.config);
    for (const l of first.layers) await this.blob(store, host, repo, l);
    return describeImage(store, m.bytes, platform);
  }
}

function authError(host: string, detail: string): OmstackError {
  return new OmstackError("E_REGISTRY_AUTH", `registry ${host} ${detail}`, {
    remedy: "check the registry credentials (or that the image is public), and that the token service is reachable",
  });
}

function digestError(what: string, want: string, got: string, base: string): OmstackError {
  return new OmstackError("E_BUNDLE_SOURCE_DIGEST", `${what} from ${base} should be ${want} but arrived as ${got}`, {
    remedy: "the registry or a proxy in between served corrupted or different content: check it (or the mirror) and build again; nothing was stored",
    details: { expected: want, found: got, endpoint: base },
  });
}

/** The builder's ImagePuller backed by a RegistryClient. */
export function makePuller(opts: RegistryOptions): ImagePuller {
  const client = new RegistryClient(opts);
  return (store, src, platform) => client.pull(store, src.registry, src.repository, src.digest, platform);
}
