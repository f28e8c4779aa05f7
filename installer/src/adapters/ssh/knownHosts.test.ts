import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KnownHostsFile, fingerprint, hostPattern, keyTypeOf, parseKnownHosts, verifyHostKey } from "./knownHosts.js";

function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const type = Buffer.from("ssh-ed25519");
  const b = Buffer.alloc(4 + type.length + 4 + raw.length);
  b.writeUInt32BE(type.length, 0);
  type.copy(b, 4);
  b.writeUInt32BE(raw.length, 4 + type.length);
  raw.copy(b, 8 + type.length);
  return b;
}

describe("known_hosts", () => {
  const k1 = ed25519Blob();
  const k2 = ed25519Blob();

  it("writes host patterns the way OpenSSH does", () => {
    expect(hostPattern("10.0.0.1", 22)).toBe("10.0.0.1");
    expect(hostPattern("10.0.0.1", 2222)).toBe("[10.0.0.1]:2222");
    expect(keyTypeOf(k1)).toBe("ssh-ed25519");
    expect(fingerprint(k1)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("trusts a matching key, refuses a changed one, reports unknown hosts", () => {
    const { entries } = parseKnownHosts(`10.0.0.1,gpu-01 ssh-ed25519 ${k1.toString("base64")} c\n[10.0.0.2]:2222 ssh-ed25519 ${k1.toString("base64")}\n`, "kh");
    expect(verifyHostKey(entries, "10.0.0.1", 22, k1)).toEqual({ status: "trusted" });
    expect(verifyHostKey(entries, "gpu-01", 22, k1)).toEqual({ status: "trusted" });
    expect(verifyHostKey(entries, "10.0.0.1", 22, k2)).toMatchObject({ status: "changed", line: 1 });
    expect(verifyHostKey(entries, "10.0.0.2", 22, k1)).toEqual({ status: "unknown" });
    expect(verifyHostKey(entries, "10.0.0.2", 2222, k1)).toEqual({ status: "trusted" });
  });

  it("matches hashed hosts and honours @revoked", () => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update("10.9.9.9").digest();
    const text = `|1|${salt.toString("base64")}|${hash.toString("base64")} ssh-ed25519 ${k1.toString("base64")}\n@revoked * ssh-ed25519 ${k2.toString("base64")}\n`;
    const { entries } = parseKnownHosts(text, "kh");
    expect(verifyHostKey(entries, "10.9.9.9", 22, k1)).toEqual({ status: "trusted" });
    expect(verifyHostKey(entries, "10.9.9.9", 22, k2)).toMatchObject({ status: "revoked" });
  });

  it("refuses a malformed file instead of skipping lines", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kh-"));
    await writeFile(join(dir, "kh"), "garbage-line\n");
    await expect(KnownHostsFile.open(join(dir, "kh"))).rejects.toMatchObject({ code: "E_KNOWN_HOSTS_FILE", message: expect.stringContaining("kh:1") });
  });

  it("appends accepted keys atomically with mode 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kh-"));
    const path = join(dir, "sub", "known_hosts");
    const f = await KnownHostsFile.open(path);
    await f.add([{ address: "10.0.0.5", port: 2200, keyBlob: k1, comment: "omstack:gpu 05" }]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, "utf8")).toBe(`[10.0.0.5]:2200 ssh-ed25519 ${k1.toString("base64")} omstack:gpu_05\n`);
    const again = await KnownHostsFile.open(path);
    expect(again.verify("10.0.0.5", 2200, k1)).toEqual({ status: "trusted" });
  });
});
