// Pure decisions of the LVM step: which planned disks are done, which may be used, which must be erased first, and
// which must be refused — from the plan and what pvs/vgs/lsblk/wipefs reported. No host access here.
import { OmstackError, type ErrorCode } from "../../errors.js";
import type { PlanNode } from "../../plan/types.js";
import { descendants, type BlockNode, type PvRow, type Signature, type VgRow } from "./lvm-report.js";

/** One disk the plan gives to a volume group. */
export interface PlannedDisk {
  name: string;
  vg: string;
  wipe: boolean;
}

/** What the host showed about one planned disk. */
export interface DiskSurvey {
  /** "major:minor" from /sys/class/block/NAME/dev, or null when the kernel has no such block device. */
  devnum: string | null;
  /** lsblk's tree for the disk (null when not surveyed: the disk is already done). */
  tree: BlockNode | null;
  signatures: Signature[];
}

/** What apply does with one disk. */
export type DiskAction =
  | { disk: PlannedDisk; kind: "member" }
  | { disk: PlannedDisk; kind: "orphan-pv" }
  | { disk: PlannedDisk; kind: "empty" }
  | { disk: PlannedDisk; kind: "erase"; holds: string; eraseOrder: string[] };

/** A disk or volume group the step refuses to touch, with the code, the reason and the fix. */
export interface Refusal {
  code: Extract<ErrorCode, "E_LVM_DISK_MISSING" | "E_LVM_DISK_IN_USE" | "E_LVM_DISK_BUSY" | "E_LVM_VG_FOREIGN">;
  message: string;
  remedy: string;
}

// LVM's own rules for VG names (lvm(8) "VALID NAMES"): no leading '-', not "." or "..", at most 127 characters.
const VG_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;
// Kernel block device names as lsblk and /sys/class/block show them (sda, nvme1n1, vdb, xvdf, mmcblk0).
const DISK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$/;

/** The node's disks that the plan gives to a volume group, validated (bad names are a bug in the plan: E_STEP_CONFIG). */
export function plannedDisks(node: Pick<PlanNode, "host" | "disks">): PlannedDisk[] {
  const out: PlannedDisk[] = [];
  const seen = new Set<string>();
  for (const d of node.disks) {
    if (d.use === null) continue;
    const where = `${node.host}: plan disk ${JSON.stringify(d.name)}`;
    if (!DISK_NAME.test(d.name)) {
      throw new OmstackError("E_STEP_CONFIG", `${where} is not a kernel block device name (like sdb or nvme1n1)`, { host: node.host, remedy: "fix the disk name in the plan (omstack plan writes the names lsblk reports)" });
    }
    if (!VG_NAME.test(d.use) || d.use === "." || d.use === "..") {
      throw new OmstackError("E_STEP_CONFIG", `${where}: volume group name ${JSON.stringify(d.use)} is not valid for LVM (letters, digits, + _ . -, not starting with -, at most 127 characters)`, { host: node.host, remedy: "fix the disk's use: in the plan" });
    }
    if (seen.has(d.name)) throw new OmstackError("E_STEP_CONFIG", `${where} is listed twice`, { host: node.host, remedy: "list each disk once in the plan" });
    seen.add(d.name);
    out.push({ name: d.name, vg: d.use, wipe: d.wipe });
  }
  return out;
}

/** The planned volume groups of a node, each with its disks, in plan order. */
export function groupsOf(disks: readonly PlannedDisk[]): Map<string, PlannedDisk[]> {
  const m = new Map<string, PlannedDisk[]>();
  for (const d of disks) m.set(d.vg, [...(m.get(d.vg) ?? []), d]);
  return m;
}

/** The PV row for a disk: by device number (names of the same disk differ: /dev/vdb, /dev/disk/by-id/…), else by name. */
export function pvOf(disk: PlannedDisk, devnum: string | null, pvs: readonly PvRow[]): PvRow | null {
  return pvs.find((p) => (devnum !== null && p.devnum === devnum) || p.pvName === `/dev/${disk.name}`) ?? null;
}

/** Whether the planned state holds: every planned disk a PV of its VG, and each VG holding exactly its planned PVs. */
export function volumeGroupGaps(disks: readonly PlannedDisk[], devnums: ReadonlyMap<string, string | null>, pvs: readonly PvRow[], vgs: readonly VgRow[]): string[] {
  const gaps: string[] = [];
  for (const d of disks) {
    const devnum = devnums.get(d.name) ?? null;
    if (devnum === null) {
      gaps.push(`/dev/${d.name} does not exist`);
      continue;
    }
    const pv = pvOf(d, devnum, pvs);
    if (!pv) gaps.push(`/dev/${d.name} is not an LVM physical volume`);
    else if (pv.vgName !== d.vg) gaps.push(`/dev/${d.name} is a PV of ${pv.vgName ? `volume group ${pv.vgName}` : "no volume group"}, not ${d.vg}`);
  }
  for (const [vg, members] of groupsOf(disks)) {
    const wanted = new Set(members.map((m) => devnums.get(m.name) ?? `name:${m.name}`));
    const extra = pvs.filter((p) => p.vgName === vg && !(p.devnum !== null && wanted.has(p.devnum)) && !members.some((m) => p.pvName === `/dev/${m.name}`));
    if (extra.length) gaps.push(`volume group ${vg} also holds ${extra.map((p) => p.pvName || "an unknown device").join(", ")}, which the plan does not give it`);
    const row = vgs.find((v) => v.vgName === vg);
    if (row && row.missingPvCount > 0) gaps.push(`volume group ${vg} misses ${row.missingPvCount} physical volume(s)`);
  }
  return gaps;
}

/** Why a disk counts as holding something (partitions, holders, signatures, another VG), or [] when it is empty. */
function contents(tree: BlockNode | null, signatures: readonly Signature[], pv: PvRow | null): string[] {
  const why: string[] = [];
  const parts = tree?.children.filter((c) => c.type === "part") ?? [];
  if (parts.length) why.push(`${parts.length} partition${parts.length === 1 ? "" : "s"} (${parts.map((p) => p.name).join(", ")})`);
  // LVM2_member is the PV label pvs already explains; without a pvs row (filtered, duplicate) it counts as content.
  const sigs = [...new Set(signatures.filter((s) => s.type !== "LVM2_member" || pv === null).map((s) => s.type))];
  if (sigs.length) why.push(`${sigs.map((t) => (/^(gpt|dos|PMBR)$/.test(t) ? `a ${t} partition table` : `a ${t} signature`)).join(", ")}`);
  if (pv && pv.vgName !== "") why.push(`LVM metadata of volume group ${pv.vgName}`);
  return why;
}

/** Mounts and holders (LVs, RAID, crypt) on the disk or its partitions: never erased, whatever the plan says. */
function busyWith(tree: BlockNode | null): string[] {
  if (!tree) return [];
  const why: string[] = [];
  for (const n of [tree, ...descendants(tree)]) for (const m of n.mountpoints) why.push(`${n.name} is mounted at ${m}`);
  const holders = descendants(tree).filter((n) => n.type !== "part");
  if (holders.length) why.push(`in use by ${holders.map((h) => `${h.name} (${h.type})`).join(", ")}`);
  return why;
}

/** Decides each planned disk's action, and every refusal (all are reported together, before anything changes). */
export function decideDisks(host: string, disks: readonly PlannedDisk[], surveys: ReadonlyMap<string, DiskSurvey>, pvs: readonly PvRow[], vgs: readonly VgRow[]): { actions: DiskAction[]; refusals: Refusal[] } {
  const actions: DiskAction[] = [];
  const refusals: Refusal[] = [];
  for (const disk of disks) {
    const s = surveys.get(disk.name) ?? { devnum: null, tree: null, signatures: [] };
    const dev = `/dev/${disk.name}`;
    if (s.devnum === null) {
      refusals.push({ code: "E_LVM_DISK_MISSING", message: `${host}: ${dev} (planned for volume group ${disk.vg}) does not exist on this host`, remedy: "probe the host again and make a new plan (omstack plan): disk names can change when disks are added or removed" });
      continue;
    }
    const pv = pvOf(disk, s.devnum, pvs);
    if (pv && pv.vgName === disk.vg) {
      actions.push({ disk, kind: "member" });
      continue;
    }
    const busy = busyWith(s.tree);
    if (busy.length) {
      refusals.push({ code: "E_LVM_DISK_BUSY", message: `${host}: ${dev} (planned for volume group ${disk.vg}) is in use: ${busy.join("; ")}; it is never erased while in use, even when the plan says wipe`, remedy: `unmount it and stop what holds it (lsblk ${dev} shows what), or take it out of the plan` });
      continue;
    }
    const holds = contents(s.tree, s.signatures, pv);
    if (holds.length === 0) {
      actions.push({ disk, kind: pv ? "orphan-pv" : "empty" });
      continue;
    }
    if (!disk.wipe) {
      refusals.push({ code: "E_LVM_DISK_IN_USE", message: `${host}: ${dev} (planned for volume group ${disk.vg}) holds ${holds.join(", ")}, and the plan does not say to erase it; it was left untouched`, remedy: `if its data may be destroyed, list ${disk.name} under the host's wipe: in the inventory and make a new plan; otherwise take it out of the plan` });
      continue;
    }
    const order = s.tree ? [...descendants(s.tree).map((n) => n.name), disk.name] : [disk.name];
    actions.push({ disk, kind: "erase", holds: holds.join(", "), eraseOrder: order });
  }
  for (const [vg, members] of groupsOf(disks)) {
    const foreign = pvs.filter((p) => p.vgName === vg && !members.some((m) => (p.devnum !== null && surveys.get(m.name)?.devnum === p.devnum) || p.pvName === `/dev/${m.name}`));
    const missing = vgs.find((v) => v.vgName === vg)?.missingPvCount ?? 0;
    if (foreign.length || missing > 0) {
      const what = [...(foreign.length ? [`${foreign.map((p) => p.pvName || "an unknown device").join(", ")}, which the plan does not give it`] : []), ...(missing > 0 ? [`${missing} missing physical volume(s)`] : [])];
      refusals.push({ code: "E_LVM_VG_FOREIGN", message: `${host}: volume group ${vg} already exists with ${what.join(" and ")}; the installer changes no disk outside the plan`, remedy: `add those disks to the plan, or move the volume group's data off them and \`vgreduce ${vg} DEVICE\` (or \`vgreduce --removemissing ${vg}\`) by hand, then run the install again` });
    }
  }
  return { actions, refusals };
}

/** One error for all refusals of a host: the first one's code, every disk named. */
export function refusalError(host: string, refusals: readonly Refusal[]): OmstackError {
  const first = refusals[0]!;
  if (refusals.length === 1) return new OmstackError(first.code, first.message, { host, remedy: first.remedy });
  return new OmstackError(first.code, `${host}: ${refusals.length} planned disks or volume groups refused: ${refusals.map((r) => r.message.replace(`${host}: `, "")).join(" | ")}`, {
    host,
    remedy: refusals.map((r) => r.remedy).filter((r, i, all) => all.indexOf(r) === i).join("; also: "),
  });
}
