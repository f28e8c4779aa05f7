// Shared by the install-step integration tests: an SSH connector to a lab's hosts and a snapshot of a host's root.
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { SshConnector, type Secrets } from "../../installer/src/adapters/ssh/client.js";
import { KnownHostsFile } from "../../installer/src/adapters/ssh/knownHosts.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import type { TestLab } from "../hosts/types.js";

/** Tests use the lab's key only: any prompt for a secret is a bug. */
const noSecrets: Secrets = {
  sshPassword: async () => Promise.reject(new Error("no password in tests")),
  keyPassphrase: async () => undefined,
  sudoPassword: async () => Promise.reject(new Error("no sudo in tests")),
};

/** An SshConnector that trusts exactly the lab's host keys, and an inventory HostSpec per lab host. */
export async function labConnector(lab: TestLab): Promise<{ connector: SshConnector; specs: Record<string, HostSpec> }> {
  const knownHosts = await KnownHostsFile.open(lab.knownHostsFile);
  const connector = new SshConnector({ connectTimeoutMs: 10_000, keepaliveMs: 5_000, secrets: noSecrets, hostKeys: { knownHosts, acceptNew: false, accepted: [] } });
  const specs = Object.fromEntries(
    lab.hosts.map((h) => [
      h.name,
      { name: h.name, address: h.address, port: h.port, user: h.user, auth: { kind: "key", identityFile: h.identityFile }, sudo: { enabled: false }, bastion: null, roles: [], labels: {}, wipe: [] } satisfies HostSpec,
    ]),
  );
  return { connector, specs };
}

/** Every path under a host's overlay upper dir with its mode and content digest (directories by presence only). */
export function snapshotRoot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const r = `${rel}/${name}`;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.set(r, "dir");
        walk(p, r);
      } else if (st.isSymbolicLink()) out.set(r, `link ${readlinkSync(p)}`);
      else if (st.isFile()) out.set(r, `${(st.mode & 0o7777).toString(8)} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`);
      else out.set(r, `special ${st.mode.toString(8)}`);
    }
  };
  walk(root, "");
  return out;
}
