import { describe, expect, it } from "vitest";
import { OmstackError } from "../../errors.js";
import { checkPasswordPolicy, hashPassword, verifyPassword } from "./password.js";
import { roleAllows } from "./roles.js";
import { AddressThrottle } from "./throttle.js";
import { newToken, tokenDigest, tokenMatches } from "./tokens.js";

describe("passwords", () => {
  it("hashes with a fresh salt and verifies only the right password", async () => {
    const a = await hashPassword("correct horse battery staple");
    const b = await hashPassword("correct horse battery staple");
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery staple", a)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", a)).toBe(false);
  });
  it("never matches a malformed hash", async () => {
    for (const h of ["", "plain", "scrypt$1$1$1$$", "scrypt$99999999$8$1$AAAA$AAAA"]) expect(await verifyPassword("x", h)).toBe(false);
  });
  it("enforces the length policy", () => {
    expect(() => checkPasswordPolicy("short")).toThrow(OmstackError);
    expect(() => checkPasswordPolicy("x".repeat(257))).toThrow(/12 to 256/);
    expect(() => checkPasswordPolicy("twelve chars")).not.toThrow();
  });
});

describe("roles", () => {
  it("orders viewer < operator < admin", () => {
    expect(roleAllows("admin", "operator")).toBe(true);
    expect(roleAllows("operator", "admin")).toBe(false);
    expect(roleAllows("viewer", "viewer")).toBe(true);
    expect(roleAllows("viewer", "operator")).toBe(false);
  });
});

describe("tokens", () => {
  it("matches only the digest of the same token", () => {
    const t = newToken();
    expect(tokenMatches(t, tokenDigest(t))).toBe(true);
    expect(tokenMatches(newToken(), tokenDigest(t))).toBe(false);
    expect(tokenMatches(t, "abc")).toBe(false);
  });
});

describe("AddressThrottle", () => {
  it("refuses after the limit within the window and forgets after it", () => {
    const t = new AddressThrottle({ maxFailures: 3, windowMs: 1000 });
    for (const at of [0, 100, 200]) t.fail("1.2.3.4", at);
    expect(t.retryAfterMs("1.2.3.4", 300)).toBe(700);
    expect(t.retryAfterMs("5.6.7.8", 300)).toBe(0);
    expect(t.retryAfterMs("1.2.3.4", 1001)).toBe(0);
  });
});
