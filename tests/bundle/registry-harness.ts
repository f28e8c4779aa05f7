// A real OCI registry on loopback for tests: Debian's docker-registry (distribution 2.8) with its own storage folder,
// started on a free 127.0.0.1 port and stopped by PID; plus a push client speaking the distribution API and a
// scriptable loopback proxy to put faults (corruption, drops, 503s, token auth) between client and registry.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { BlobStore, type ImageParts } from "../../installer/src/bundle/oci.js";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? res(a.port) : rej(new Error("no port"))));
    });
  });
}

/** A running registry: its host:port and how to stop it. */
export interface RunningRegistry {
  host: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts docker-registry with storage under `dir`; resolves once /v2/ answers. */
export async function startRegistry(dir: string): Promise<RunningRegistry> {
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing: apt-get install docker-registry (listed in tests/system-packages.txt)`);
  const port = await freePort();
  mkdirSync(join(dir, "storage"), { recursive: true });
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog: { disabled: true }",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "storage")}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
    const ok = await fetch(`${url}/v2/`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`docker-registry did not answer on ${url} within 20 s: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once("exit", () => res());
        process.kill(child.pid!, "SIGTERM");
      }),
  };
}

/** Pushes a blob with the monolithic upload (POST then PUT ?digest=). */
export async function pushBlob(url: string, repo: string, digest: string, data: Buffer): Promise<void> {
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202) throw new Error(`upload start: HTTP ${start.status}`);
  const loc = new URL(start.headers.get("location")!, url);
  loc.searchParams.set("digest", digest);
  const put = await fetch(loc, { method: "PUT", body: data, headers: { "Content-Type": "application/octet-stream" } });
  if (put.status !== 201) throw new Error(`blob put ${digest}: HTTP ${put.status} ${await put.text()}`);
}

/** Pushes an image (blobs, then manifest under `tag`) from a local blob store. */
export async function pushImage(url: string, repo: string, tag: string, store: BlobStore, parts: ImageParts): Promise<void> {
  for (const d of [parts.config, ...parts.layers]) await pushBlob(url, repo, d.digest, await store.read(d.digest));
  await pushManifest(url, repo, tag, parts.manifestBytes, parts.mediaType);
}

/** PUTs a manifest or index. */
export async function pushManifest(url: string, repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<void> {
  const r = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: "PUT", body: bytes, headers: { "Content-Type": mediaType } });
  if (r.status !== 201) throw new Error(`manifest put: HTTP ${r.status} ${await r.text()}`);
}

/** What the proxy does with one request: forward it (optionally altering the body) or answer itself. */
export type ProxyRule = (req: IncomingMessage, res: ServerResponse) => "forward" | { transform: (body: Buffer) => Buffer } | { dropAfter: number } | "handled";

/** A loopback HTTP proxy in front of `upstream` (host:port) that records requests and applies a rule to each. */
export async function startProxy(upstream: string, rule: ProxyRule): Promise<{ url: string; host: string; requests: { method: string; url: string; range?: string; auth?: string }[]; close(): Promise<void> }> {
  const requests: { method: string; url: string; range?: string; auth?: string }[] = [];
  const [uh, up] = upstream.split(":");
  const server: Server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const what = rule(req, res);
    if (what === "handled") return;
    const headers = { ...req.headers };
    delete headers.authorization;
    const preq = httpRequest({ host: uh, port: Number(up), method: req.method, path: req.url, headers }, (pres) => {
      if (what === "forward") {
        res.writeHead(pres.statusCode ?? 502, pres.headers);
        pres.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      pres.on("data", (c: Buffer) => chunks.push(c));
      pres.on("end", () => {
        const body = Buffer.concat(chunks);
        if ("transform" in what) {
          const out = what.transform(body);
          res.writeHead(pres.statusCode ?? 502, { ...pres.headers, "content-length": String(out.length) });
          res.end(out);
        } else {
          res.writeHead(pres.statusCode ?? 502, pres.headers);
          // Cut the connection a moment after the partial body left, so the client has stored it (a real mid-blob drop,
          // not a race between the cut and the client's own write of what it received).
          res.write(body.subarray(0, what.dropAfter), () => setTimeout(() => res.socket?.destroy(), 500));
        }
      });
    });
    preq.on("error", () => res.destroy());
    req.pipe(preq);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  const port = a && typeof a === "object" ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
