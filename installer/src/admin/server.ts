// listen(): wires the real state DB into buildApp() and serves it — HTTPS by default, plain HTTP only on loopback.
import { isIP } from "node:net";
import type { AddressInfo } from "node:net";
import { OmstackError } from "../errors.js";
import { buildApp, type AdminDeps } from "./app.js";
import { openStateDb } from "./db/open.js";
import { loadOrCreateTls } from "./tls.js";

/** Default HTTPS port of the admin service. */
export const DEFAULT_PORT = 9443;

/** Where to listen. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses HOST:PORT, [V6]:PORT or PORT (all interfaces); refuses anything else with a fix. */
export function parseListen(text: string): ListenAddress {
  const bad = () =>
    new OmstackError("E_ADMIN_LISTEN", `--listen needs HOST:PORT, [IPv6]:PORT or PORT with a port of 0–65535; got ${JSON.stringify(text)}`, {
      remedy: `for example --listen 0.0.0.0:${DEFAULT_PORT} or --listen 127.0.0.1:8080`,
    });
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text) ?? (/^(\d{1,5})$/.test(text) ? [text, undefined, "0.0.0.0", text] : null);
  if (!m) throw bad();
  const host = m[1] ?? m[2] ?? "";
  const port = Number(m[3]);
  if (!host || port > 65535 || (m[1] !== undefined && isIP(host) !== 6)) throw bad();
  return { host, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface ServeOptions {
  stateDir: string;
  listen: string;
  insecureHttp: boolean;
  tlsCert?: string;
  tlsKey?: string;
  deps?: Omit<Partial<AdminDeps>, "db" | "stateDir" | "secureCookies">;
}

/** A running service: its URL and how to stop it. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Opens the state DB, builds the app and listens; closes the DB when stopped. */
export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const addr = parseListen(opts.listen);
  if (opts.insecureHttp && !isLoopback(addr.host)) {
    throw new OmstackError("E_ADMIN_LISTEN", `plain HTTP is allowed only on a loopback address; --listen is ${opts.listen}`, {
      remedy: "drop --insecure-http to serve HTTPS, or listen on 127.0.0.1 for local development",
    });
  }
  const tls = opts.insecureHttp ? null : await loadOrCreateTls(opts.stateDir, { ...(opts.tlsCert ? { certFile: opts.tlsCert } : {}), ...(opts.tlsKey ? { keyFile: opts.tlsKey } : {}) });
  const db = openStateDb(opts.stateDir);
  const app = await buildApp({ logger: false, ...opts.deps, db, stateDir: opts.stateDir, secureCookies: tls !== null, ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}) });
  try {
    await app.listen({ host: addr.host, port: addr.port });
  } catch (e) {
    await app.close();
    db.close();
    throw new OmstackError("E_ADMIN_LISTEN", `cannot listen on ${opts.listen}: ${(e as Error).message}`, { remedy: "choose a free port, or stop the process that holds this one" });
  }
  const server = app.server;
  const port = (server.address() as AddressInfo).port;
  const shownHost = addr.host.includes(":") ? `[${addr.host}]` : addr.host === "0.0.0.0" ? "127.0.0.1" : addr.host;
  return {
    url: `${tls ? "https" : "http"}://${shownHost}:${port}`,
    async close() {
      server.closeAllConnections?.();
      await app.close();
      db.close();
    },
  };
}
