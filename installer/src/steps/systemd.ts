// Read-only detection of systemd on a host, shared by steps that install or reload units.
import type { ReadCtx } from "./types.js";

/** sd_booted(3): systemd is PID 1 exactly when this directory exists; systemctl alone proves nothing (containers ship it). */
export const SYSTEMD_RUNTIME_DIR = "/run/systemd/system";

/** Where unit files of packages and of the administrator live, in systemd's lookup order (admin first). */
export const UNIT_DIRS: readonly string[] = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

/** True when systemd runs as PID 1 and systemctl is there to talk to it. */
export async function systemdRunning(ctx: ReadCtx): Promise<boolean> {
  return (await ctx.exists(SYSTEMD_RUNTIME_DIR)) && (await ctx.commandExists("systemctl"));
}

/** True when a unit file named `unit` (e.g. "containerd.service") is installed in one of UNIT_DIRS. */
export async function unitInstalled(ctx: ReadCtx, unit: string): Promise<boolean> {
  for (const dir of UNIT_DIRS) if (await ctx.exists(`${dir}/${unit}`)) return true;
  return false;
}
