// The inventory: which hosts to manage and how to reach them. Secrets are never part of it.

/** How to authenticate: a key file, the ssh-agent, or a password asked at run time (never stored). */
export type AuthMethod =
  | { kind: "key"; identityFile: string }
  | { kind: "agent"; socket: string | null }
  | { kind: "password" };

/** sudo use on the host; a sudo password, like any secret, is asked at run time. */
export type SudoSetting = { enabled: false } | { enabled: true; askPassword: boolean };

/** A jump host the installer tunnels through. */
export interface BastionSpec {
  address: string;
  port: number;
  user: string;
  auth: AuthMethod;
}

/** One host as the inventory describes it (after defaults are applied). */
export interface HostSpec {
  name: string;
  address: string;
  port: number;
  user: string;
  auth: AuthMethod;
  sudo: SudoSetting;
  bastion: BastionSpec | null;
  roles: string[];
  labels: Record<string, string>;
  wipe: string[];
}

/** A validated inventory; `file` is kept for messages. */
export interface Inventory {
  file: string | null;
  hosts: HostSpec[];
}

/** Roles a host may be pinned to; the planner chooses the rest. */
export const KNOWN_ROLES = ["control-plane", "worker", "gpu", "storage", "proxy"] as const;
