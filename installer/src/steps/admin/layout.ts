// Where the admin service lives on its node, and the pure helpers its three steps share (target, paths, commands).
import { createHash } from "node:crypto";
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";

/** Root of the installed app: one folder per release, `current` a symlink to the one in use. */
export const APP_ROOT = "/opt/omstack";
/** The symlink the unit runs through; swapped atomically (rename) to change release. */
export const APP_CURRENT = `${APP_ROOT}/current`;
/** The Node runtime inside a release folder. */
export const NODE_IN_RELEASE = "node";
/** The CLI entry inside a release folder (the tarball's `omstack/` folder). */
export const CLI_IN_RELEASE = "omstack/bin/omstack.js";
/** Written last into a release folder: its identity; `current/<this>` tells which release is live. */
export const RELEASE_MARKER = ".omstack-release";
/** The admin service's state directory (database, certificate, receipts); systemd's StateDirectory creates it 0700. */
export const ADMIN_STATE_DIR = "/var/lib/omstack-admin";
/** The unit's name and file. */
export const ADMIN_UNIT = "omstack-admin.service";
export const ADMIN_UNIT_FILE = `/etc/systemd/system/${ADMIN_UNIT}`;
/** Default listen address: every interface, the admin service's HTTPS port. */
export const DEFAULT_ADMIN_LISTEN = "0.0.0.0:9443";
/** Log file of the CLI commands the install runs on the node (appended). */
export const INSTALL_CLI_LOG = "/var/log/omstack/omstack-admin-install.log";

/** The first control-plane node of the plan, alone; [] when the plan has none. */
export function firstControlPlane(plan: Plan): string[] {
  const n = plan.nodes.find((x) => x.roles.includes("control-plane"));
  return n ? [n.host] : [];
}

/** A file from the bundle: where it is on this machine and its sha256 from the bundle manifest. */
export interface BundleFile {
  path: string;
  sha256: string;
}

/** Refuses a bundle file setting that could not be pushed and checked. */
export function checkBundleFile(what: string, f: BundleFile): BundleFile {
  if (!f || typeof f.path !== "string" || f.path === "") throw new OmstackError("E_STEP_CONFIG", `${what}: a local path is required; got ${JSON.stringify(f?.path)}`, { remedy: `pass the bundle's ${what} path` });
  if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw new OmstackError("E_STEP_CONFIG", `${what}: sha256 must be 64 lower-case hex digits; got ${JSON.stringify(f.sha256)}`, { remedy: "take the sha256 from the bundle manifest" });
  return f;
}

/** A release's name: both digests decide it, so a new Node runtime with the same app is a new release too. */
export function releaseId(appSha256: string, nodeSha256: string): string {
  return createHash("sha256").update(`${appSha256}\n${nodeSha256}\n`).digest("hex").slice(0, 16);
}

/** The marker's exact text for a release. */
export function releaseMarker(appSha256: string, nodeSha256: string): string {
  return `omstack app release ${releaseId(appSha256, nodeSha256)}\napp ${appSha256}\nnode ${nodeSha256}\n`;
}

/** The folder of a release. */
export function releaseDir(appSha256: string, nodeSha256: string): string {
  return `${APP_ROOT}/app-${releaseId(appSha256, nodeSha256)}`;
}

/** The command line that runs the installed CLI through `current` (for ExecStart and the install's own calls). */
export function cliCommand(args: string[]): string {
  return [`${APP_CURRENT}/${NODE_IN_RELEASE}`, `${APP_CURRENT}/${CLI_IN_RELEASE}`, ...args].map((a) => (/^[A-Za-z0-9_./:=@+-]+$/.test(a) ? a : shq(a))).join(" ");
}

/** HOST:PORT as the admin service takes it; refuses anything a unit file or a probe could not use. */
export function parseAdminListen(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new OmstackError("E_STEP_CONFIG", `admin service listen address must be HOST:PORT with a port of 1–65535; got ${JSON.stringify(listen)}`, { remedy: `use e.g. ${DEFAULT_ADMIN_LISTEN}` });
  }
  return { host: m[1]!, port };
}

/** Where the install probes the service from its own node: loopback for a wildcard listen, else the listen host. */
export function probeHost(listenHost: string): string {
  return listenHost === "0.0.0.0" || listenHost === "[::]" ? "127.0.0.1" : listenHost.replace(/^\[|\]$/g, "");
}

/** TCP ports in LISTEN state in a /proc/net/tcp or /proc/net/tcp6 text. */
export function listeningPorts(procNetTcp: string): Set<number> {
  const out = new Set<number>();
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || f[3] !== "0A") continue;
    const port = parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (Number.isFinite(port)) out.add(port);
  }
  return out;
}
