// One lock file per subnet in /run/omstack-lab: who owns the subnet, where its folder is, which sshd PIDs are its own.
// Creating the file with O_EXCL claims the subnet, so parallel test files never share one; a dead owner's file marks leftovers.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cmdlineOf, isRunning, startTimeOf } from "./machine.js";

export const LOCK_DIR = "/run/omstack-lab";

/** What the lock file records; enough for stopStale to undo a crashed run. */
export interface LabState {
  prefix: string;
  subnetIndex: number;
  ownerPid: number;
  ownerStart: number | null;
  /** The lab survives its owner (CLI): alive while any of its sshds is. */
  persistent: boolean;
  labDir: string | null;
  hosts: { name: string; index: number; pid: number | null; sshdConfig: string }[];
}

export function lockPath(prefix: string): string {
  return `${LOCK_DIR}/${prefix}.json`;
}

export function readState(prefix: string): LabState | null {
  try {
    return JSON.parse(readFileSync(lockPath(prefix), "utf8")) as LabState;
  } catch {
    return null;
  }
}

/** Rewrites the state of a lock this process holds. */
export function writeState(state: LabState): void {
  const tmp = `${lockPath(state.prefix)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, lockPath(state.prefix));
}

/** True when a recorded sshd PID is still that sshd (its cmdline names its own config). */
export function isOurSshd(pid: number, sshdConfig: string): boolean {
  const cmd = cmdlineOf(pid);
  return cmd !== null && cmd.includes("sshd") && cmd.includes(sshdConfig) && isRunning(pid);
}

/** True while the owner of a lock (or, for a persistent lab, any of its sshds) is alive. */
export function isLive(state: LabState): boolean {
  if (state.ownerPid === process.pid) return true;
  if (isRunning(state.ownerPid) && startTimeOf(state.ownerPid) === state.ownerStart) return true;
  return state.persistent && state.hosts.some((h) => h.pid !== null && isOurSshd(h.pid, h.sshdConfig));
}

/** Tries to claim a subnet: "claimed", "busy" (a live owner), or "stale" (a dead owner's lock, moved aside and returned). */
export function tryClaim(
  prefix: string,
  subnetIndex: number,
  persistent: boolean,
): { result: "claimed" } | { result: "busy"; owner: LabState | null } | { result: "stale"; state: LabState | null } {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
  const fresh: LabState = {
    prefix,
    subnetIndex,
    ownerPid: process.pid,
    ownerStart: startTimeOf(process.pid),
    persistent,
    labDir: null,
    hosts: [],
  };
  try {
    writeFileSync(lockPath(prefix), JSON.stringify(fresh, null, 2), { flag: "wx", mode: 0o600 });
    return { result: "claimed" };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const existing = readState(prefix);
  if (existing !== null && isLive(existing)) return { result: "busy", owner: existing };
  // move the stale lock aside atomically: only one contender wins the rename, and it then claims the subnet
  const aside = `${lockPath(prefix)}.stale.${process.pid}`;
  try {
    renameSync(lockPath(prefix), aside);
  } catch {
    return { result: "busy", owner: null };
  }
  rmSync(aside, { force: true });
  try {
    writeFileSync(lockPath(prefix), JSON.stringify(fresh, null, 2), { flag: "wx", mode: 0o600 });
  } catch {
    return { result: "busy", owner: null };
  }
  return { result: "stale", state: existing };
}

/** Drops a lock this process holds. */
export function releaseLock(prefix: string): void {
  const st = readState(prefix);
  if (st !== null && st.ownerPid !== process.pid && isLive(st)) return;
  rmSync(lockPath(prefix), { force: true });
}
