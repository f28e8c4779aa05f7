import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateKeyFiles, loadPrivateKey, loadPublicKey, parseSignature, signManifest, verifyManifestSignature } from "./sign.js";

describe("keys and signatures", () => {
  it("keygen writes a 0600 private key and a public key, and never overwrites", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sign-"));
    const k = join(dir, "key");
    const r = await generateKeyFiles(k);
    expect(statSync(k).mode & 0o777).toBe(0o600);
    expect(statSync(`${k}.pub`).mode & 0o777).toBe(0o644);
    expect(r.keyId).toMatch(/^[0-9a-f]{16}$/);
    await expect(generateKeyFiles(k)).rejects.toMatchObject({ code: "E_BUNDLE_TARGET_EXISTS" });
  });

  it("signs bytes that verify with the public key and fail with another key or other bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sign-"));
    await generateKeyFiles(join(dir, "a"));
    await generateKeyFiles(join(dir, "b"));
    const priv = await loadPrivateKey(join(dir, "a"));
    const pubA = await loadPublicKey(join(dir, "a.pub"));
    const pubB = await loadPublicKey(join(dir, "b.pub"));
    const msg = Buffer.from('{"x":1}\n');
    const sig = parseSignature(signManifest(msg, priv));
    expect(verifyManifestSignature(msg, sig, [pubB, pubA])).toMatch(/^[0-9a-f]{16}$/);
    expect(() => verifyManifestSignature(msg, sig, [pubB])).toThrow(expect.objectContaining({ code: "E_BUNDLE_SIGNATURE" }));
    expect(() => verifyManifestSignature(Buffer.from('{"x":2}\n'), sig, [pubA])).toThrow(/does not verify/);
  });

  it("refuses keys that are missing, not PEM, or not ed25519", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sign-"));
    await expect(loadPrivateKey(join(dir, "nope"))).rejects.toMatchObject({ code: "E_BUNDLE_KEY", message: expect.stringMatching(/ENOENT/) });
    writeFileSync(join(dir, "junk"), "not a key");
    await expect(loadPublicKey(join(dir, "junk"))).rejects.toMatchObject({ code: "E_BUNDLE_KEY" });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    writeFileSync(join(dir, "rsa"), rsa.privateKey.export({ type: "pkcs8", format: "pem" }));
    await expect(loadPrivateKey(join(dir, "rsa"))).rejects.toMatchObject({ code: "E_BUNDLE_KEY", message: expect.stringMatching(/rsa key/) });
  });

  it("refuses malformed signature records", () => {
    expect(() => parseSignature(Buffer.from("garbage"))).toThrow(expect.objectContaining({ code: "E_BUNDLE_SIGNATURE" }));
    expect(() => parseSignature(Buffer.from(JSON.stringify({ algorithm: "ed25519", keyId: "x", signature: "AAAA" })))).toThrow(/64 bytes/);
  });
});
