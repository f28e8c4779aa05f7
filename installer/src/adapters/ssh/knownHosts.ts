// omstack's own known_hosts: OpenSSH format, so operators can read it and reuse ssh-keygen on it.
import { createHash, createHmac } from "node:crypto";
import { readFile, rename, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { OmstackError } from "../../errors.js";

/** One key line: host patterns (or a hashed host), key type and base64 blob. */
export interface KnownHostEntry {
  hosts: string[];
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  keyBase64: string;
  marker: "revoked" | "cert-authority" | null;
  line: number;
}

/** What the file says about a host's presented key. */
export type HostKeyVerdict = { status: "trusted" } | { status: "unknown" } | { status: "changed"; knownTypes: string[]; line: number } | { status: "revoked"; line: number };

/** Host pattern as OpenSSH writes it: `addr` for port 22, `[addr]:port` otherwise. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** SHA256 fingerprint in OpenSSH's form (`SHA256:base64-without-padding`). */
export function fingerprint(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** Key type from an SSH wire-format public key blob ("ssh-ed25519", ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const len = keyBlob.readUInt32BE(0);
  if (len > 64 || 4 + len > keyBlob.length) return "unknown";
  return keyBlob.subarray(4, 4 + len).toString("latin1");
}

/** Parses known_hosts text; malformed lines are reported with their line numbers, never silently used. */
export function parseKnownHosts(text: string, file: string): { entries: KnownHostEntry[]; problems: string[] } {
  const entries: KnownHostEntry[] = [];
  const problems: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = null;
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift()!;
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else {
        problems.push(`${file}:${i + 1}: unknown marker ${m}`);
        return;
      }
    }
    const [hostsField, keyType, keyBase64] = fields;
    if (!hostsField || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) {
      problems.push(`${file}:${i + 1}: expected "HOST KEYTYPE BASE64-KEY"`);
      return;
    }
    let hashed: KnownHostEntry["hashed"] = null;
    if (hostsField.startsWith("|1|")) {
      const [, , salt, hash] = hostsField.split("|");
      if (!salt || !hash) {
        problems.push(`${file}:${i + 1}: malformed hashed host`);
        return;
      }
      hashed = { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") };
    }
    entries.push({ hosts: hashed ? [] : hostsField.split(","), hashed, keyType, keyBase64, marker, line: i + 1 });
  });
  return { entries, problems };
}

function entryMatchesHost(e: KnownHostEntry, pattern: string): boolean {
  if (e.hashed) return createHmac("sha1", e.hashed.salt).update(pattern).digest().equals(e.hashed.hash);
  let matched = false;
  for (const p of e.hosts) {
    const negated = p.startsWith("!");
    const pat = negated ? p.slice(1) : p;
    if (globMatch(pat, pattern)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*") && !pattern.includes("?")) return pattern.toLowerCase() === value.toLowerCase();
  const re = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$", "i");
  return re.test(value);
}

/** Decides whether a presented key is trusted, unknown, changed or revoked for this host. */
export function verifyHostKey(entries: KnownHostEntry[], address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const pattern = hostPattern(address, port);
  const presented = keyBlob.toString("base64");
  const revoked = entries.find((e) => e.marker === "revoked" && e.keyBase64 === presented);
  if (revoked) return { status: "revoked", line: revoked.line };
  const forHost = entries.filter((e) => e.marker === null && entryMatchesHost(e, pattern));
  if (forHost.some((e) => e.keyBase64 === presented)) return { status: "trusted" };
  if (forHost.length > 0) return { status: "changed", knownTypes: [...new Set(forHost.map((e) => e.keyType))], line: forHost[0]!.line };
  return { status: "unknown" };
}

/** The known_hosts file on disk: read once per run, appended atomically (0600) when keys are accepted. */
export class KnownHostsFile {
  private constructor(
    readonly path: string,
    private text: string,
    private entries: KnownHostEntry[],
  ) {}

  /** Opens (or starts) the file; a malformed file is an error, because skipping lines could trust the wrong key. */
  static async open(path: string): Promise<KnownHostsFile> {
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new OmstackError("E_KNOWN_HOSTS_FILE", `cannot read known_hosts ${path}: ${(e as Error).message}`, { remedy: "check its permissions or pass another file with --known-hosts" });
      }
    }
    const { entries, problems } = parseKnownHosts(text, path);
    if (problems.length > 0) {
      throw new OmstackError("E_KNOWN_HOSTS_FILE", `known_hosts ${path} has malformed lines:\n  ${problems.slice(0, 5).join("\n  ")}`, {
        remedy: "fix or delete those lines (ssh-keygen -R HOST -f FILE removes a host)",
      });
    }
    return new KnownHostsFile(path, text, entries);
  }

  verify(address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
    return verifyHostKey(this.entries, address, port, keyBlob);
  }

  /** Records accepted keys in one atomic write. */
  async add(keys: { address: string; port: number; keyBlob: Buffer; comment: string }[]): Promise<void> {
    if (keys.length === 0) return;
    const lines = keys.map((k) => `${hostPattern(k.address, k.port)} ${keyTypeOf(k.keyBlob)} ${k.keyBlob.toString("base64")} ${k.comment.replace(/\s+/g, "_")}`);
    const next = (this.text === "" || this.text.endsWith("\n") ? this.text : this.text + "\n") + lines.join("\n") + "\n";
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.tmp-${process.pid}`;
      await writeFile(tmp, next, { mode: 0o600 });
      await rename(tmp, this.path);
    } catch (e) {
      throw new OmstackError("E_KNOWN_HOSTS_FILE", `cannot write known_hosts ${this.path}: ${(e as Error).message}`, { remedy: "check the directory's permissions or pass another file with --known-hosts" });
    }
    this.text = next;
    this.entries = parseKnownHosts(next, this.path).entries;
  }
}
