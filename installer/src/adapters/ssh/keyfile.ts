// Reads and checks private key files for ssh2; the only place key material is read from disk.
import { readFile, stat } from "node:fs/promises";
import ssh2 from "ssh2";

/** Why a key file cannot be used, or null when it can (an encrypted key is usable: its passphrase is asked). */
export async function checkKeyFile(path: string): Promise<string | null> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message;
  }
  if (!st.isFile()) return "not a regular file";
  if (st.size > 64 * 1024) return `${st.size} bytes is too large for a private key (did you point at the wrong file?)`;
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EACCES" ? "permission denied" : (e as Error).message;
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) {
    if (/passphrase|encrypted/i.test(parsed.message)) return null;
    return `not a private key ssh can read (${parsed.message})`;
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) return "this is a public key; point identityFile at the private key (without .pub)";
  return null;
}

/** True when the key file is passphrase-protected, so the CLI knows to ask. */
export function isEncryptedKey(data: Buffer): boolean {
  const parsed = ssh2.utils.parseKey(data);
  return parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message);
}
