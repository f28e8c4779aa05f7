// Pure parsers for the machine-readable output the LVM step reads: `pvs`/`vgs --reportformat json`, `wipefs --json`,
// `lsblk --json`. Real captured outputs are the test fixtures (fixtures/SOURCE.md).
import { OmstackError } from "../../errors.js";

/** One physical volume as `pvs` reports it; vgName is "" for a PV that belongs to no volume group. */
export interface PvRow {
  pvName: string;
  pvUuid: string;
  vgName: string;
  /** Kernel device number "major:minor", or null when pvs could not say (a missing PV). */
  devnum: string | null;
}

/** One volume group as `vgs` reports it. */
export interface VgRow {
  vgName: string;
  pvCount: number;
  missingPvCount: number;
}

/** One signature `wipefs --json` found (a filesystem, a partition table, LVM metadata, RAID…). */
export interface Signature {
  device: string;
  offset: string;
  type: string;
}

/** A block device and what sits on it, as `lsblk --json` shows it (partitions and holders as children). */
export interface BlockNode {
  name: string;
  type: string;
  fstype: string | null;
  pttype: string | null;
  mountpoints: string[];
  children: BlockNode[];
}

/** The pvs columns the step asks for (the parsers need exactly these). */
export const PVS_COLUMNS = "pv_name,pv_uuid,vg_name,pv_major,pv_minor";
/** The vgs columns the step asks for. */
export const VGS_COLUMNS = "vg_name,pv_count,vg_missing_pv_count";
/** The read-only report commands; LC_ALL=C keeps numbers and messages predictable. */
export const PVS_COMMAND = `LC_ALL=C pvs --reportformat json --units b --nosuffix -o ${PVS_COLUMNS}`;
export const VGS_COMMAND = `LC_ALL=C vgs --reportformat json --units b --nosuffix -o ${VGS_COLUMNS}`;
/** lsblk columns for one disk's tree (MOUNTPOINTS: every mount, util-linux ≥ 2.37). */
export const LSBLK_COLUMNS = "NAME,TYPE,FSTYPE,PTTYPE,MOUNTPOINTS";

function unreadable(what: string, why: string, text: string): OmstackError {
  return new OmstackError("E_STEP_OUTPUT", `${what} printed output the installer cannot read (${why}): ${JSON.stringify(text.slice(0, 200))}`, {
    remedy: `run the command on the host by hand; if its output is not JSON, report the lvm2/util-linux version (${what})`,
  });
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw unreadable(what, (e as Error).message, text);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** The rows of one report kind ("pv", "vg") from LVM's JSON: {"report":[{"pv":[{…}]}]}; several report objects are joined. */
function reportRows(what: string, text: string, kind: string): Record<string, unknown>[] {
  const doc = parseJson(what, text);
  if (!isObj(doc) || !Array.isArray(doc.report)) throw unreadable(what, 'no "report" list', text);
  const rows: Record<string, unknown>[] = [];
  for (const r of doc.report) {
    if (!isObj(r)) throw unreadable(what, "a report entry is not an object", text);
    const list = r[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw unreadable(what, `"${kind}" is not a list`, text);
    for (const row of list) {
      if (!isObj(row)) throw unreadable(what, `a "${kind}" row is not an object`, text);
      rows.push(row);
    }
  }
  return rows;
}

/** `pvs --reportformat json -o pv_name,pv_uuid,vg_name,pv_major,pv_minor` → one row per PV. */
export function parsePvsJson(text: string): PvRow[] {
  return reportRows("pvs", text, "pv").map((r) => {
    const major = str(r.pv_major);
    const minor = str(r.pv_minor);
    const ok = /^\d+$/.test(major) && /^\d+$/.test(minor) && !(major === "0" && minor === "0");
    return { pvName: str(r.pv_name), pvUuid: str(r.pv_uuid), vgName: str(r.vg_name), devnum: ok ? `${Number(major)}:${Number(minor)}` : null };
  });
}

/** `vgs --reportformat json -o vg_name,pv_count,vg_missing_pv_count` → one row per VG. */
export function parseVgsJson(text: string): VgRow[] {
  return reportRows("vgs", text, "vg").map((r) => ({
    vgName: str(r.vg_name),
    pvCount: Number(str(r.pv_count)) || 0,
    missingPvCount: Number(str(r.vg_missing_pv_count)) || 0,
  }));
}

/** `wipefs --json DEV` → its signatures; an empty output (older util-linux on a clean disk) means none. */
export function parseWipefsJson(text: string): Signature[] {
  if (text.trim() === "") return [];
  const doc = parseJson("wipefs", text);
  if (!isObj(doc) || !Array.isArray(doc.signatures)) throw unreadable("wipefs", 'no "signatures" list', text);
  return doc.signatures.filter(isObj).map((s) => ({ device: str(s.device), offset: str(s.offset), type: str(s.type) }));
}

function blockNode(v: unknown, text: string): BlockNode {
  if (!isObj(v) || typeof v.name !== "string") throw unreadable("lsblk", "a device without a name", text);
  const mounts = Array.isArray(v.mountpoints) ? v.mountpoints : "mountpoint" in v ? [v.mountpoint] : [];
  return {
    name: v.name,
    type: str(v.type),
    fstype: typeof v.fstype === "string" && v.fstype !== "" ? v.fstype : null,
    pttype: typeof v.pttype === "string" && v.pttype !== "" ? v.pttype : null,
    mountpoints: mounts.filter((m): m is string => typeof m === "string" && m !== ""),
    children: Array.isArray(v.children) ? v.children.map((c) => blockNode(c, text)) : [],
  };
}

/** `lsblk --json -o NAME,TYPE,FSTYPE,PTTYPE,MOUNTPOINTS DEV` → the device's tree (the first block device listed). */
export function parseLsblkJson(text: string): BlockNode | null {
  const doc = parseJson("lsblk", text);
  if (!isObj(doc) || !Array.isArray(doc.blockdevices)) throw unreadable("lsblk", 'no "blockdevices" list', text);
  const first = doc.blockdevices[0];
  return first === undefined ? null : blockNode(first, text);
}

/** Every node below `n` (children, grandchildren…), deepest first: the order to erase signatures in. */
export function descendants(n: BlockNode): BlockNode[] {
  return n.children.flatMap((c) => [...descendants(c), c]);
}
