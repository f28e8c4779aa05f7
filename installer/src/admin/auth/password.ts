// Password hashing with scrypt (node:crypto): only the salted hash is ever stored, never the password.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { OmstackError } from "../../errors.js";

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

/** Cost parameters; stored with each hash so they can be raised later without breaking old hashes. */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

/** Shortest and longest password accepted: long enough to resist guessing, short enough to bound hashing work. */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Rejects passwords outside the accepted length, with a message that says which limit was missed. */
export function checkPasswordPolicy(password: string): void {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new OmstackError("E_ADMIN_WEAK_PASSWORD", `a password of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters is required; the one given has ${password.length}`, {
      remedy: `choose a password of at least ${PASSWORD_MIN} characters (a passphrase of several words works well)`,
    });
  }
}

/** `scrypt$N$r$p$salt$hash` (base64url), self-describing so verification needs no other state. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keylen } = SCRYPT_PARAMS;
  const key = await scrypt(password, salt, keylen, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** True when the password matches the stored hash; a malformed hash never matches. Constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const expected = Buffer.from(parts[5] ?? "", "base64url");
  if (!N || !r || !p || salt.length === 0 || expected.length === 0 || N > 1 << 20) return false;
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

/** A hash of a random password, checked against when the user does not exist so timing does not reveal user names. */
export const DUMMY_HASH_PROMISE: Promise<string> = hashPassword(randomBytes(24).toString("base64url"));
