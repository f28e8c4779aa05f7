// The lock on each host: a directory made atomically with mkdir, holding who owns it, so two installers never work one host.
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { OmstackError } from "../errors.js";
import type { WriteCtx } from "../steps/types.js";
import { shq } from "../steps/shell.js";
import { processAlive, processStartTime } from "./processInfo.js";

/** Where the lock lives on a host (a directory: mkdir is atomic on every filesystem). */
export const HOST_LOCK_DIR = "/var/lib/omstack/lock";

/** Who holds a host lock: the installer (machine + state directory), its PID and start time, the run. */
export interface HostLockOwner {
  installer: string;
  pid: number;
  pidStart: string | null;
  run: number;
  started: string;
}

/** This installer's identity: the machine's name plus a digest of its state directory (two journals = two installers). */
export function installerId(stateDir: string): string {
  return `${hostname()}/${createHash("sha256").update(stateDir).digest("hex").slice(0, 12)}`;
}

/** The owner file's text: one `key=value` per line. */
export function formatOwner(o: HostLockOwner): string {
  return `installer=${o.installer}\npid=${o.pid}\npid_start=${o.pidStart ?? ""}\nrun=${o.run}\nstarted=${o.started}\n`;
}

/** Parses an owner file; null when it is not one (a half-written lock, garbage). */
export function parseOwner(text: string): HostLockOwner | null {
  const kv = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!);
  }
  const pid = Number(kv.get("pid"));
  const run = Number(kv.get("run"));
  const installer = kv.get("installer");
  if (!installer || !Number.isInteger(pid) || pid <= 0 || !Number.isInteger(run)) return null;
  return { installer, pid, pidStart: kv.get("pid_start") || null, run, started: kv.get("started") ?? "" };
}

const HELD = 3;

/** Takes the lock on the host behind `ctx`; takes over a lock left by a dead run of this same installer, refuses any other. */
export async function acquireHostLock(ctx: WriteCtx, me: { stateDir: string; runId: number }, dir: string = HOST_LOCK_DIR): Promise<HostLockOwner> {
  const owner: HostLockOwner = { installer: installerId(me.stateDir), pid: process.pid, pidStart: processStartTime(process.pid), run: me.runId, started: new Date().toISOString() };
  const d = shq(dir);
  const ownerText = formatOwner(owner);
  const parent = dir.replace(/\/[^/]+\/?$/, "") || "/";
  const r = await ctx.run(
    [
      `[ -d ${shq(parent)} ] || { mkdir -p ${shq(parent)} && chmod 700 ${shq(parent)}; }`,
      `if mkdir ${d} 2>/dev/null; then printf '%s' ${shq(ownerText)} > ${d}/owner.tmp && mv -f ${d}/owner.tmp ${d}/owner; exit 0; fi`,
      `cat ${d}/owner 2>/dev/null`,
      `exit ${HELD}`,
    ].join("\n"),
    { okExitCodes: [0, HELD], timeoutMs: 30_000 },
  );
  if (r.exitCode === 0) return owner;

  const current = parseOwner(r.stdout);
  const ours = current !== null && current.installer === owner.installer;
  if (ours && current.pid === owner.pid && current.pidStart === owner.pidStart) return owner;
  if (ours && !processAlive(current.pid, current.pidStart)) {
    // Left by a run of this installer that died (kill -9, power loss); the local lock makes us its only heir.
    const t = await ctx.run(
      `[ "$(cat ${d}/owner 2>/dev/null)" = ${shq(r.stdout.replace(/\n+$/, ""))} ] || exit ${HELD}\nprintf '%s' ${shq(ownerText)} > ${d}/owner.tmp && mv -f ${d}/owner.tmp ${d}/owner`,
      { okExitCodes: [0, HELD], timeoutMs: 30_000 },
    );
    if (t.exitCode === 0) {
      ctx.note(`took over the host lock ${dir} left by run ${current.run} (PID ${current.pid}, no longer running)`);
      return owner;
    }
  }
  const who = current ? `installer ${current.installer}, PID ${current.pid}, run ${current.run}, since ${current.started}` : "an unreadable owner file";
  throw new OmstackError("E_INSTALL_HOST_LOCKED", `${ctx.host}: another installer holds the host lock ${dir} (${who}); one installer at a time may change a host`, {
    host: ctx.host,
    remedy: ours
      ? "that run of this installer is still alive; wait for it to finish"
      : `wait for the other installer to finish; if it is gone for good, remove the lock on the host: rm -r ${dir}`,
  });
}

/** Releases the lock if (and only if) this process still owns it. */
export async function releaseHostLock(ctx: WriteCtx, owner: HostLockOwner, dir: string = HOST_LOCK_DIR): Promise<void> {
  const d = shq(dir);
  await ctx.run(`[ "$(cat ${d}/owner 2>/dev/null)" = ${shq(formatOwner(owner).replace(/\n+$/, ""))} ] || exit 0\nrm -rf ${d}`, { timeoutMs: 30_000 });
}
