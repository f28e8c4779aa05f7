// Which bundle signing keys this installer trusts: --trust files, else the trust folder. Shared by bundle and install.
import type { KeyObject } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { OmstackError } from "../errors.js";
import { loadPublicKey } from "../bundle/sign.js";

/** Folder of keys an installed cluster trusts, used when --trust is not given. */
export const DEFAULT_TRUST_DIR = "/etc/omstack/trusted-keys";

/** --trust keys, or every *.pub in the trust folder ($OMSTACK_TRUST_DIR or /etc/omstack/trusted-keys). */
export async function trustedKeys(paths: string[], note: (line: string) => void): Promise<KeyObject[]> {
  if (paths.length > 0) return Promise.all(paths.map(loadPublicKey));
  const dir = process.env.OMSTACK_TRUST_DIR || DEFAULT_TRUST_DIR;
  const names = await readdir(dir).catch(() => [] as string[]);
  const pubs = names.filter((n) => n.endsWith(".pub")).sort();
  if (pubs.length === 0) {
    throw new OmstackError("E_BUNDLE_UNTRUSTED", `no --trust key given and no *.pub keys in ${dir}`, {
      remedy: "pass the publisher's public key: --trust KEY.pub",
    });
  }
  note(`trusting ${pubs.length} key(s) from ${dir}`);
  return Promise.all(pubs.map((n) => loadPublicKey(join(dir, n))));
}
