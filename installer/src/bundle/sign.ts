// Ed25519 keys and signatures over the exact bytes of bundle.json (node:crypto, no extra dependency).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { OmstackError } from "../errors.js";

/** bundle.json.sig as parsed: which key signed and the raw signature. */
export interface BundleSignature {
  algorithm: "ed25519";
  keyId: string;
  signature: Buffer;
}

/** Short stable name of a public key: first 16 hex digits of sha256 over its SPKI DER encoding. */
export function keyId(pub: KeyObject): string {
  return createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

/** Writes a new key pair: `out` (PKCS#8 PEM, 0600, never overwritten) and `out.pub` (SPKI PEM). */
export async function generateKeyFiles(out: string): Promise<{ privatePath: string; publicPath: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privPem = privateKey.export({ type: "pkcs8", format: "pem" });
  const pubPem = publicKey.export({ type: "spki", format: "pem" });
  const publicPath = `${out}.pub`;
  for (const [path, data, mode] of [
    [out, privPem, 0o600],
    [publicPath, pubPem, 0o644],
  ] as const) {
    let fh;
    try {
      fh = await open(path, "wx", mode);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        throw new OmstackError("E_BUNDLE_TARGET_EXISTS", `${path} already exists; keygen never overwrites a key`, {
          remedy: "choose another --out path, or move the old key away first if you really mean to replace it",
        });
      }
      throw new OmstackError("E_BUNDLE_WRITE", `cannot create ${path}: ${(e as Error).message}`, { remedy: "choose a writable --out path", cause: e });
    }
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
  }
  return { privatePath: out, publicPath, keyId: keyId(publicKey) };
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new OmstackError("E_BUNDLE_KEY", `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      remedy: "check the path; make a key pair with `omstack bundle keygen --out KEY`",
      cause: e,
    });
  }
}

/** Loads an ed25519 private key (PEM) for signing. */
export async function loadPrivateKey(path: string): Promise<KeyObject> {
  const pem = await readKeyFile(path, "signing key");
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new OmstackError("E_BUNDLE_KEY", `${path} is not a PEM private key`, {
      remedy: "pass the private key written by `omstack bundle keygen --out KEY` (not KEY.pub)",
      cause: e,
    });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new OmstackError("E_BUNDLE_KEY", `${path} is a ${key.asymmetricKeyType ?? "unknown"} key; bundles are signed with ed25519`, {
      remedy: "make an ed25519 key pair with `omstack bundle keygen --out KEY`",
    });
  }
  return key;
}

/** Loads an ed25519 public key (PEM) to trust; a private key file is accepted and its public half used. */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  const pem = await readKeyFile(path, "trusted key");
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new OmstackError("E_BUNDLE_KEY", `${path} is not a PEM public key`, { remedy: "pass the KEY.pub written by `omstack bundle keygen`", cause: e });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new OmstackError("E_BUNDLE_KEY", `${path} is a ${key.asymmetricKeyType ?? "unknown"} key; bundles are signed with ed25519`, {
      remedy: "pass the KEY.pub written by `omstack bundle keygen`",
    });
  }
  return key;
}

/** The bytes of bundle.json.sig for a manifest: one JSON line. */
export function signManifest(manifestBytes: Buffer, key: KeyObject): Buffer {
  const signature = sign(null, manifestBytes, key);
  const pub = createPublicKey(key);
  return Buffer.from(JSON.stringify({ algorithm: "ed25519", keyId: keyId(pub), signature: signature.toString("base64") }) + "\n");
}

/** Parses bundle.json.sig; throws E_BUNDLE_SIGNATURE when it is not a well-formed ed25519 signature record. */
export function parseSignature(bytes: Buffer): BundleSignature {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    raw = null;
  }
  const o = raw as Record<string, unknown> | null;
  if (!o || o.algorithm !== "ed25519" || typeof o.keyId !== "string" || typeof o.signature !== "string") {
    throw new OmstackError("E_BUNDLE_SIGNATURE", "bundle.json.sig is not an ed25519 signature record", {
      remedy: "the bundle was damaged or not made by `omstack bundle build`; get an intact copy",
    });
  }
  const signature = Buffer.from(o.signature, "base64");
  if (signature.length !== 64) {
    throw new OmstackError("E_BUNDLE_SIGNATURE", `bundle.json.sig holds a ${signature.length}-byte signature; ed25519 signatures are 64 bytes`, {
      remedy: "the bundle was damaged; get an intact copy",
    });
  }
  return { algorithm: "ed25519", keyId: o.keyId, signature };
}

/** Checks the signature against the trusted keys; returns the key id that verified, or throws E_BUNDLE_SIGNATURE. */
export function verifyManifestSignature(manifestBytes: Buffer, sig: BundleSignature, trusted: KeyObject[]): string {
  for (const k of trusted) {
    if (verify(null, manifestBytes, k, sig.signature)) return keyId(k);
  }
  const ids = trusted.map(keyId).join(", ");
  throw new OmstackError("E_BUNDLE_SIGNATURE", `bundle.json's signature (key ${sig.keyId}) does not verify with the trusted key(s) ${ids}`, {
    remedy: "the bundle was altered or signed by another key: get the bundle again from its publisher, or pass the publisher's key with --trust",
    details: { signedBy: sig.keyId, trusted: ids },
  });
}
