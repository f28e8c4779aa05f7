// Disk layout: which unused disks go to which volume group. A disk with partitions, a filesystem, a mountpoint or
// LVM metadata is never chosen unless the inventory lists it under `wipe:`; then it is marked for erasure.
import type { DiskFacts } from "../probe/facts.js";
import type { PlanDisk } from "./types.js";

export const VG_CACHE = "omstack-cache";
export const VG_SHUFFLE = "omstack-shuffle";
export const VG_LOCAL = "omstack-local";
const MIN_DISK_BYTES = 10 * 2 ** 30;

/** nvme / ssd / hdd from transport and rotation. */
/** RAM-backed block devices (zram swap, the brd ramdisk) that lsblk lists as disks: never storage (found in the lab). */
export function ramDevice(d: DiskFacts): boolean {
  return /^(zram|ram)\d+$/.test(d.name);
}

export function diskClass(d: DiskFacts): PlanDisk["class"] {
  if (d.transport === "nvme" || d.name.startsWith("nvme")) return "nvme";
  if (d.rotational === false) return "ssd";
  if (d.rotational === true) return "hdd";
  return "unknown";
}

/** Why a disk counts as in use, or null when it is empty. */
export function inUse(d: DiskFacts): string | null {
  const why: string[] = [];
  if (d.children.length > 0) why.push(`${d.children.length} partition${d.children.length === 1 ? "" : "s"}/holder${d.children.length === 1 ? "" : "s"}`);
  if (d.fstype) why.push(d.fstype === "LVM2_member" ? "LVM metadata" : `a ${d.fstype} filesystem`);
  if (d.mountpoints.some((m) => m)) why.push(`mounted at ${d.mountpoints.filter(Boolean).join(", ")}`);
  return why.length ? why.join(", ") : null;
}

const SYSTEM_MOUNTS = ["/", "/boot", "/boot/efi", "/usr", "/var", "[SWAP]"];

/** The system mountpoint this disk (or any partition or holder on it) carries, or null: such a disk is never erased. */
export function systemMount(d: DiskFacts): string | null {
  for (const m of d.mountpoints) if (SYSTEM_MOUNTS.includes(m)) return m;
  for (const c of d.children) {
    const found = systemMount(c);
    if (found) return found;
  }
  return null;
}

/** Assigns disks of one host: fast disks feed the cache then shuffle (when enabled), the rest local volumes. */
export function layoutDisks(disks: readonly DiskFacts[], wipe: readonly string[], opts: { cache: boolean; shuffle: boolean }): PlanDisk[] {
  const out: PlanDisk[] = [];
  const eligible: { d: DiskFacts; p: PlanDisk }[] = [];
  for (const d of disks) {
    if (d.type !== "disk") continue;
    const cls = diskClass(d);
    if (ramDevice(d)) {
      out.push({ name: d.name, sizeBytes: d.sizeBytes, class: cls, use: null, wipe: false, reason: "left alone: RAM-backed (zram/ramdisk), not storage" });
      continue;
    }
    const base: PlanDisk = { name: d.name, sizeBytes: d.sizeBytes, class: cls, use: null, wipe: false, reason: "" };
    const busy = inUse(d);
    const listed = wipe.includes(d.name) || wipe.includes(`/dev/${d.name}`);
    const sys = systemMount(d);
    if (sys) {
      // Even `wipe:` cannot erase the running system: that would destroy the node mid-install.
      out.push({ ...base, reason: `left alone: holds the running system (${sys})${listed ? "; its wipe: entry is ignored" : ""}` });
      continue;
    }
    if (busy && !listed) {
      out.push({ ...base, reason: `left alone: in use (${busy}); list it under wipe: to use it` });
      continue;
    }
    if ((d.sizeBytes ?? 0) < MIN_DISK_BYTES) {
      out.push({ ...base, reason: "left alone: smaller than 10 GiB" });
      continue;
    }
    const p: PlanDisk = { ...base, wipe: busy !== null, reason: busy ? `will be ERASED (listed under wipe:; holds ${busy})` : "empty" };
    out.push(p);
    eligible.push({ d, p });
  }
  const fast = eligible.filter((e) => e.p.class === "nvme" || e.p.class === "ssd").sort((a, b) => rank(a.p) - rank(b.p) || (b.d.sizeBytes ?? 0) - (a.d.sizeBytes ?? 0) || a.d.name.localeCompare(b.d.name));
  const slow = eligible.filter((e) => !fast.includes(e));
  let i = 0;
  if (opts.cache && fast[i]) assign(fast[i++]!.p, VG_CACHE, "fastest empty disk → data cache tier");
  if (opts.shuffle && fast[i]) assign(fast[i++]!.p, VG_SHUFFLE, "next fast disk → shuffle spill");
  for (const e of fast.slice(i)) assign(e.p, VG_LOCAL, "fast disk → local persistent volumes");
  for (const e of slow) assign(e.p, VG_LOCAL, "local persistent volumes");
  return out;
}

const rank = (p: PlanDisk) => (p.class === "nvme" ? 0 : 1);
function assign(p: PlanDisk, vg: string, why: string) {
  p.use = vg;
  p.reason = `${why}${p.wipe ? "; " + p.reason : ""}`;
}
