// The fan-out's RemoteHost over ssh2: one connection per host, exec with stdin streamed, the host key pinned.
// (An adapter kept beside its only user; it can move to adapters/ssh when install/upgrade wire fan-out in.)
import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import ssh2 from "ssh2";
import { OmstackError } from "../errors.js";
import type { RemoteHost } from "./distribute.js";

const { Client } = ssh2;

/** Where and how to reach one host. */
export interface SshTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  identityFile: string;
  /** The host key the host must present ("ssh-ed25519 AAAA…"); anything else is refused. */
  hostKeyLine: string;
}

/** A connected host (also a relay host: peers reach it at the same address and key); `drop()` cuts the connection. */
export interface SshRemote extends RemoteHost {
  address: string;
  port: number;
  user: string;
  hostKeyLine: string;
  close(): void;
  drop(): void;
}

type Ssh2Client = InstanceType<typeof Client>;

async function open(t: SshTarget, privateKey: Buffer, timeoutMs: number): Promise<{ client: Ssh2Client; state: { lost: string | null } }> {
  const want = Buffer.from(t.hostKeyLine.trim().split(/\s+/)[1] ?? "", "base64");
  const client = new Client();
  const state = { lost: null as string | null };
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    client.once("error", (e) =>
      reject(new OmstackError("E_SSH_CONNECT", `${t.name}: SSH to ${t.address}:${t.port} failed: ${e.message}`, { host: t.name, remedy: "check that the host is up and sshd accepts the key", cause: e })),
    );
    client.connect({
      host: t.address,
      port: t.port,
      username: t.user,
      privateKey,
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => key.length === want.length && timingSafeEqual(key, want),
    });
  });
  client.on("error", (e) => (state.lost = e.message));
  client.on("close", () => (state.lost ??= "connection closed"));
  return { client, state };
}

/** Opens one SSH connection and returns a RemoteHost over it; a lost connection is opened again on the next exec. */
export async function connectSsh(t: SshTarget, timeoutMs = 10_000): Promise<SshRemote> {
  const privateKey = await readFile(t.identityFile).catch((e: NodeJS.ErrnoException) => {
    throw new OmstackError("E_KEY_UNREADABLE", `${t.name}: cannot read ${t.identityFile} (${e.code ?? e.message})`, { host: t.name, remedy: "check identityFile" });
  });
  let conn = await open(t, privateKey, timeoutMs);
  const live = async () => {
    if (conn.state.lost) conn = await open(t, privateKey, timeoutMs);
    return conn;
  };
  return {
    name: t.name,
    address: t.address,
    port: t.port,
    user: t.user,
    hostKeyLine: t.hostKeyLine,
    async exec(command: string, stdin?: Readable) {
      const { client, state } = await live();
      return new Promise((resolve, reject) => {
        client.exec(command, (err, ch) => {
          if (err) return reject(new OmstackError("E_SSH_CONNECT", `${t.name}: ${err.message}`, { host: t.name, cause: err }));
          let stdout = "";
          let stderr = "";
          let code: number | null = null;
          ch.on("data", (c: Buffer) => (stdout += c.toString()));
          ch.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
          ch.on("exit", (c: number | null) => (code = c));
          ch.on("close", () => {
            if (code === null) {
              stdin?.unpipe(ch);
              stdin?.destroy();
              reject(new OmstackError("E_SSH_CONNECT", `${t.name}: the connection was lost while running a command (${state.lost ?? "no exit status"})`, { host: t.name }));
            } else resolve({ code, stdout, stderr });
          });
          if (stdin) {
            stdin.on("error", () => ch.destroy());
            stdin.pipe(ch);
          } else ch.end();
        });
      });
    },
    close: () => conn.client.end(),
    drop: () => conn.client.destroy(),
  };
}
