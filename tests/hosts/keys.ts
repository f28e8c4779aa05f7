// ed25519 key pairs made by the real ssh-keygen (the format sshd and the OpenSSH client read), and their fingerprints.

import { createHash } from "node:crypto";
import { chmod, readFile, rm } from "node:fs/promises";
import { LabError, run } from "./machine.js";

export interface KeyPair {
  privateKeyFile: string;
  /** "ssh-ed25519 AAAA… comment" */
  publicLine: string;
}

/** Makes a passphrase-less ed25519 key pair at path (private 0600) and path.pub. */
export async function generateKeyPair(path: string, comment: string): Promise<KeyPair> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  await chmod(path, 0o600);
  const publicLine = (await readFile(`${path}.pub`, "utf8")).trim();
  return { privateKeyFile: path, publicLine };
}

/** "type base64" of a public key line, without the comment (the known_hosts key part). */
export function keyPart(publicLine: string): string {
  const [type, blob] = publicLine.trim().split(/\s+/);
  if (type === undefined || blob === undefined) {
    throw new LabError(`test hosts: a public key line needs "type base64 [comment]"; found ${JSON.stringify(publicLine)}`);
  }
  return `${type} ${blob}`;
}

/** OpenSSH SHA256 fingerprint ("SHA256:…", unpadded base64 of the key blob's digest), as ssh-keygen -l prints it. */
export function fingerprintOf(publicLine: string): string {
  const blob = keyPart(publicLine).split(" ")[1] ?? "";
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}
