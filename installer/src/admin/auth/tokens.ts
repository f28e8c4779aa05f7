// Session and CSRF tokens: random, handed to the browser once, stored only as SHA-256 digests.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh unguessable token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The digest stored in the database in place of the token itself. */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Constant-time comparison of a presented token with a stored digest. */
export function tokenMatches(token: string, digest: string): boolean {
  const a = Buffer.from(tokenDigest(token), "hex");
  const b = Buffer.from(digest, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
