// SSH sessions over ssh2: host-key checking against omstack's known_hosts, bastions, agent/key/password auth, sudo.
import { readFile } from "node:fs/promises";
import ssh2 from "ssh2";
import type { ConnectConfig, ClientChannel } from "ssh2";
import { CommandError, OmstackError } from "../../errors.js";
import type { AuthMethod, BastionSpec, HostSpec } from "../../inventory/types.js";
import type { HostConnector, HostSession, ScriptResult } from "../../probe/ports.js";
import { fingerprint, keyTypeOf, type KnownHostsFile } from "./knownHosts.js";

const { Client } = ssh2;

/** Secrets asked at run time; never written anywhere. */
export interface Secrets {
  sshPassword(user: string, address: string): Promise<string>;
  keyPassphrase(path: string): Promise<string | undefined>;
  sudoPassword(host: string): Promise<string>;
}

/** Host-key policy for one run: unknown keys are refused unless accepted explicitly. */
export interface HostKeyPolicy {
  knownHosts: KnownHostsFile;
  acceptNew: boolean;
  /** Keys accepted during this run, to be written to known_hosts once the run is over. */
  accepted: { address: string; port: number; keyBlob: Buffer; comment: string }[];
}

/** Connection settings; key exchange prefers curve25519/ed25519 (measured: the fastest here). */
export interface SshOptions {
  connectTimeoutMs: number;
  keepaliveMs: number;
  secrets: Secrets;
  hostKeys: HostKeyPolicy;
}

const ALGORITHMS: ConnectConfig["algorithms"] = {
  kex: { append: [], prepend: ["curve25519-sha256", "curve25519-sha256@libssh.org"], remove: [] },
  serverHostKey: { append: [], prepend: ["ssh-ed25519"], remove: [] },
};

type Ssh2Client = InstanceType<typeof Client>;

async function authConfig(auth: AuthMethod, user: string, address: string, secrets: Secrets): Promise<Partial<ConnectConfig>> {
  if (auth.kind === "key") {
    const privateKey = await readFile(auth.identityFile);
    const parsed = ssh2.utils.parseKey(privateKey);
    const passphrase = parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message) ? await secrets.keyPassphrase(auth.identityFile) : undefined;
    return { privateKey, passphrase };
  }
  if (auth.kind === "agent") {
    if (!auth.socket) {
      throw new OmstackError("E_SSH_AUTH", "no identityFile is set and no ssh-agent is running (SSH_AUTH_SOCK is empty)", {
        remedy: "set identityFile for the host (or under defaults:), start ssh-agent and ssh-add your key, or use password: ask",
      });
    }
    return { agent: auth.socket };
  }
  return { password: await secrets.sshPassword(user, address) };
}

function connectError(e: Error & { level?: string; code?: string }, where: string, address: string, port: number, timeoutMs: number): OmstackError {
  const msg = e.message ?? String(e);
  if (e.level === "client-authentication" || /All configured authentication methods failed/.test(msg)) {
    return new OmstackError("E_SSH_AUTH", `${where}: ${address}:${port} rejected the credentials (${msg})`, {
      remedy: "check the user and that the public key is in the host's ~/.ssh/authorized_keys (ssh-copy-id), or the password",
    });
  }
  if (/Timed out while waiting for handshake/.test(msg) || e.code === "ETIMEDOUT") {
    return new OmstackError("E_SSH_TIMEOUT", `${where}: no SSH answer from ${address}:${port} within ${Math.round(timeoutMs / 1000)} s`, {
      remedy: "check that the host is up, the address and port are right, and no firewall drops port " + port + " (raise --connect-timeout for slow links)",
    });
  }
  if (e.code === "ECONNREFUSED") {
    return new OmstackError("E_SSH_CONNECT", `${where}: connection to ${address}:${port} refused`, { remedy: `start sshd on the host (systemctl start ssh) or fix the port (${port})` });
  }
  if (e.code === "EHOSTUNREACH" || e.code === "ENETUNREACH" || e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") {
    return new OmstackError("E_SSH_CONNECT", `${where}: ${address} is unreachable (${e.code})`, { remedy: "check the address, DNS and routing from this machine (ping, ip route get " + address + ")" });
  }
  return new OmstackError("E_SSH_CONNECT", `${where}: SSH to ${address}:${port} failed: ${msg}`, { remedy: "check that sshd runs on the host and accepts connections from this machine" });
}

function openClient(
  cfg: { address: string; port: number; user: string; label: string },
  auth: Partial<ConnectConfig>,
  opts: SshOptions,
  sock?: NodeJS.ReadableStream,
): Promise<Ssh2Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyError: OmstackError | null = null;
    let settled = false;
    const done = (err: OmstackError | null) => {
      if (settled) return;
      settled = true;
      if (err) {
        client.end();
        reject(err);
      } else resolve(client);
    };
    client.on("ready", () => done(null));
    client.on("error", (e: Error & { level?: string; code?: string }) => done(hostKeyError ?? connectError(e, cfg.label, cfg.address, cfg.port, opts.connectTimeoutMs)));
    client.on("close", () => done(hostKeyError ?? new OmstackError("E_SSH_CONNECT", `${cfg.label}: ${cfg.address}:${cfg.port} closed the connection during setup`, { remedy: "check the host's sshd log (journalctl -u ssh) for the reason; MaxStartups may be too low" })));
    client.connect({
      host: cfg.address,
      port: cfg.port,
      username: cfg.user,
      readyTimeout: opts.connectTimeoutMs,
      keepaliveInterval: opts.keepaliveMs,
      keepaliveCountMax: 3,
      algorithms: ALGORITHMS,
      sock: sock as ConnectConfig["sock"],
      ...auth,
      hostVerifier: (key: Buffer) => {
        const verdict = opts.hostKeys.knownHosts.verify(cfg.address, cfg.port, key);
        const fp = fingerprint(key);
        if (verdict.status === "trusted") return true;
        if (verdict.status === "unknown" && opts.hostKeys.acceptNew) {
          opts.hostKeys.accepted.push({ address: cfg.address, port: cfg.port, keyBlob: key, comment: `omstack:${cfg.label}` });
          return true;
        }
        if (verdict.status === "unknown") {
          hostKeyError = new OmstackError("E_SSH_HOSTKEY_UNKNOWN", `${cfg.label}: host key of ${cfg.address}:${cfg.port} is not trusted yet: ${keyTypeOf(key)} ${fp}`, {
            remedy: `compare with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` run on the host, then re-run with --accept-new-host-keys (keys are recorded in ${opts.hostKeys.knownHosts.path})`,
            details: { fingerprint: fp, keyType: keyTypeOf(key), keyBase64: key.toString("base64") },
          });
        } else if (verdict.status === "changed") {
          hostKeyError = new OmstackError("E_SSH_HOSTKEY_CHANGED", `${cfg.label}: HOST KEY CHANGED for ${cfg.address}:${cfg.port}: now ${keyTypeOf(key)} ${fp}, but ${opts.hostKeys.knownHosts.path}:${verdict.line} records a different key — refusing to connect`, {
            remedy: `if the host was reinstalled, verify the new fingerprint on its console, then remove the old entry: ssh-keygen -R '${cfg.port === 22 ? cfg.address : `[${cfg.address}]:${cfg.port}`}' -f ${opts.hostKeys.knownHosts.path}; otherwise treat this as a possible attack`,
            details: { fingerprint: fp },
          });
        } else {
          hostKeyError = new OmstackError("E_SSH_HOSTKEY_CHANGED", `${cfg.label}: the key ${fp} presented by ${cfg.address}:${cfg.port} is marked @revoked in ${opts.hostKeys.knownHosts.path}:${verdict.line}`, {
            remedy: "replace the host's SSH host key; a revoked key is never accepted",
          });
        }
        return false;
      },
    });
  });
}

/** An SSH session to one host: one connection, scripts run as exec channels. */
class SshSession implements HostSession {
  private lost: string | null = null;
  constructor(
    private readonly client: Ssh2Client,
    private readonly jump: Ssh2Client | null,
    private readonly host: HostSpec,
    private readonly opts: SshOptions,
  ) {
    client.on("error", (e: Error) => (this.lost = e.message));
    client.on("close", () => (this.lost ??= "connection closed"));
  }

  /**
   * The command line that runs `argv` as root: as it is for root, through `sudo -n` (NOPASSWD) or `sudo -S` with the
   * asked password as the first line of stdin (`prefix`). `plain` is the command for root when it differs from argv.
   */
  private async asRoot(argv: string[], plain?: string): Promise<{ useSudo: boolean; command: string; prefix: string }> {
    const useSudo = this.host.sudo.enabled && this.host.user !== "root";
    if (!useSudo || !this.host.sudo.enabled) return { useSudo, command: plain ?? argv.join(" "), prefix: "" };
    if (!this.host.sudo.askPassword) return { useSudo, command: `sudo -n -- ${argv.join(" ")}`, prefix: "" };
    return { useSudo, command: `sudo -S -p '' -- ${argv.join(" ")}`, prefix: (await this.opts.secrets.sudoPassword(this.host.name)) + "\n" };
  }

  private openChannel(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => (err ? reject(new OmstackError("E_SSH_CONNECT", `${this.host.name}: could not open a session: ${err.message}`, { remedy: "check MaxSessions in the host's sshd_config" })) : resolve(ch)));
    });
  }

  /** A channel closed without an exit status: the connection dropped (host reboot, network cut, keepalive timeout). */
  private rejectLost(reject: (e: Error) => void, what: string, command: string, stderr: Buffer): void {
    // Deferred one tick so the client's own error event can say why (`this.lost`).
    setImmediate(() =>
      reject(new CommandError("E_SSH_CONNECT", `${this.host.name}: the SSH connection was lost during ${what} (${this.lost ?? "no exit status"})`, command, null, stderr.toString(), { remedy: "check the host's network and uptime (was it rebooted?), then run again" })),
    );
  }

  async runScript(script: string, timeoutMs: number): Promise<ScriptResult> {
    const { useSudo, command, prefix } = await this.asRoot(["sh", "-s"]);
    const channel = await this.openChannel(command);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      const limit = 64 * 1024 * 1024;
      let finished = false;
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        channel.close();
        reject(new CommandError("E_COMMAND_TIMEOUT", `${this.host.name}: the probe did not finish within ${Math.round(timeoutMs / 1000)} s`, command, null, Buffer.concat(err).toString("utf8"), { remedy: "a command hangs on the host (often nvidia-smi with a stuck GPU); see the log, fix the host, or raise --timeout" }));
      }, timeoutMs);
      const onData = (bucket: Buffer[]) => (d: Buffer) => {
        size += d.length;
        if (size > limit && !finished) {
          finished = true;
          clearTimeout(timer);
          channel.close();
          reject(new OmstackError("E_PROBE_OUTPUT", `${this.host.name}: the probe printed more than ${limit / 1024 / 1024} MiB; stopped reading`, { remedy: "a command on the host prints far too much; check the capture directory and the host's tools" }));
          return;
        }
        bucket.push(d);
      };
      channel.on("data", onData(out));
      channel.stderr.on("data", onData(err));
      channel.on("close", (code: number | null, signal?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: code ?? null, signal: signal ?? null };
        if ((code === undefined || code === null) && !signal) {
          this.rejectLost(reject, "a command script (probe or install step)", command, result.stderr);
          return;
        }
        if (useSudo && code === 1 && /sudo: (a password is required|a terminal is required|.*incorrect password)/.test(result.stderr.toString())) {
          reject(new CommandError("E_SUDO", `${this.host.name}: sudo refused to run the probe as root`, command, code, result.stderr.toString(), { remedy: `allow passwordless sudo for ${this.host.user} (NOPASSWD in /etc/sudoers.d/) or set \`sudo: {password: ask}\`` }));
          return;
        }
        resolve(result);
      });
      channel.end(prefix + script);
    });
  }

  /** Runs one command with `stdin` streamed to it (file pushes); sudo as in runScript; output is kept up to 1 MiB per stream. */
  async exec(command: string, opts: { stdin?: Buffer | NodeJS.ReadableStream; timeoutMs: number }): Promise<ScriptResult> {
    const { command: full, prefix } = await this.asRoot(["sh", "-c", "'" + command.replace(/'/g, `'\\''`) + "'"], command);
    const channel = await this.openChannel(full);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const keep = 1024 * 1024;
      let outSize = 0;
      let errSize = 0;
      let finished = false;
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        channel.close();
        reject(new CommandError("E_COMMAND_TIMEOUT", `${this.host.name}: \`${command}\` did not finish within ${Math.round(opts.timeoutMs / 1000)} s`, command, null, Buffer.concat(err).toString("utf8"), { host: this.host.name, remedy: "the host is slow or the link is saturated; see the log, then run again" }));
      }, opts.timeoutMs);
      channel.on("data", (d: Buffer) => {
        if ((outSize += d.length) <= keep) out.push(d);
      });
      channel.stderr.on("data", (d: Buffer) => {
        if ((errSize += d.length) <= keep) err.push(d);
      });
      channel.on("close", (code: number | null, signal?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: code ?? null, signal: signal ?? null };
        if ((code === undefined || code === null) && !signal) {
          this.rejectLost(reject, `\`${command}\``, command, result.stderr);
          return;
        }
        resolve(result);
      });
      if (prefix) channel.write(prefix);
      const input = opts.stdin;
      if (input === undefined) channel.end();
      else if (Buffer.isBuffer(input)) channel.end(input);
      else {
        input.on("error", (e: Error) => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          channel.close();
          reject(new OmstackError("E_STEP_SOURCE", `${this.host.name}: reading the data to send failed: ${e.message}`, { host: this.host.name, remedy: "check the local file and the disk it is on" }));
        });
        input.pipe(channel);
      }
    });
  }

  close(): void {
    this.client.end();
    this.jump?.end();
  }
}

/** Opens SSH sessions for inventory hosts, through a bastion when one is set. */
export class SshConnector implements HostConnector<HostSpec> {
  constructor(private readonly opts: SshOptions) {}

  async open(host: HostSpec): Promise<HostSession> {
    let jump: Ssh2Client | null = null;
    let sock: NodeJS.ReadableStream | undefined;
    if (host.bastion) {
      jump = await this.openBastion(host.bastion, host.name);
      sock = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
        jump!.forwardOut("127.0.0.1", 0, host.address, host.port, (err, stream) => {
          if (err) {
            jump!.end();
            reject(new OmstackError("E_SSH_BASTION", `${host.name}: bastion ${host.bastion!.address} could not reach ${host.address}:${host.port}: ${err.message}`, { remedy: "check that the bastion can reach the host and allows TCP forwarding (AllowTcpForwarding yes)" }));
          } else resolve(stream);
        });
      });
    }
    try {
      const auth = await authConfig(host.auth, host.user, host.address, this.opts.secrets);
      const client = await openClient({ address: host.address, port: host.port, user: host.user, label: host.name }, auth, this.opts, sock);
      return new SshSession(client, jump, host, this.opts);
    } catch (e) {
      jump?.end();
      if (e instanceof OmstackError) throw e;
      throw new OmstackError("E_SSH_CONNECT", `${host.name}: ${(e as Error).message}`, { host: host.name, cause: e });
    }
  }

  private async openBastion(b: BastionSpec, forHost: string): Promise<Ssh2Client> {
    try {
      const auth = await authConfig(b.auth, b.user, b.address, this.opts.secrets);
      return await openClient({ address: b.address, port: b.port, user: b.user, label: `bastion ${b.address} (for ${forHost})` }, auth, this.opts);
    } catch (e) {
      const base = e instanceof OmstackError ? e : new OmstackError("E_SSH_BASTION", String(e));
      throw new OmstackError(base.code === "E_SSH_HOSTKEY_UNKNOWN" || base.code === "E_SSH_HOSTKEY_CHANGED" ? base.code : "E_SSH_BASTION", `${forHost}: via ${base.message}`, { remedy: base.remedy, details: base.details, cause: e });
    }
  }
}
