// Default locations: one state directory holds the journal, known_hosts and keys of this installer.
import { homedir } from "node:os";
import { join } from "node:path";

/** /var/lib/omstack for root (the installer's normal case), a per-user directory otherwise; OMSTACK_STATE_DIR wins. */
export function defaultStateDir(): string {
  if (process.env.OMSTACK_STATE_DIR) return process.env.OMSTACK_STATE_DIR;
  return process.getuid?.() === 0 ? "/var/lib/omstack" : join(homedir(), ".local/state/omstack");
}

/** omstack's own known_hosts (never ~/.ssh/known_hosts: the installer's trust is its own). */
export function defaultKnownHostsPath(): string {
  return join(defaultStateDir(), "known_hosts");
}
