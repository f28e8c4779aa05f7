// lsblk JSON (with or without -b / -O, old and new util-linux) and the plain lsblk table → DiskFacts trees.
import type { DiskFacts } from "../facts.js";
import { lines, safely, type Parsed, type WarningSink } from "./util.js";

const MAX_DEPTH = 32;

/** Parses `lsblk -J ...`; falls back to the text table when the capture is not JSON (lsblk.txt). */
export function parseLsblk(text: string, capture = "lsblk.json"): Parsed<DiskFacts[]> {
  return safely(capture, [], (sink) => {
    const trimmed = text.trim();
    if (trimmed === "") {
      sink.add("empty output");
      return [];
    }
    if (!trimmed.startsWith("{")) return parseLsblkTable(text, sink);
    const data: unknown = JSON.parse(trimmed);
    const list = (data as { blockdevices?: unknown } | null)?.blockdevices;
    if (!Array.isArray(list)) {
      sink.add('no "blockdevices" array found');
      return [];
    }
    return list.flatMap((d) => toDisk(d, sink, 0));
  });
}

function toDisk(raw: unknown, sink: WarningSink, depth: number): DiskFacts[] {
  if (typeof raw !== "object" || raw === null) return [];
  if (depth > MAX_DEPTH) {
    sink.add("block device tree deeper than 32 levels was cut");
    return [];
  }
  const o = raw as Record<string, unknown>;
  const name = typeof o.name === "string" ? o.name : typeof o.kname === "string" ? o.kname : null;
  if (name === null) {
    sink.add("a block device without a name was skipped");
    return [];
  }
  const size = parseSize(o.size);
  if (o.size !== undefined && o.size !== null && size === null) sink.add(`${name}: size ${JSON.stringify(o.size)} not understood`);
  const children = Array.isArray(o.children) ? o.children.flatMap((c) => toDisk(c, sink, depth + 1)) : [];
  return [
    {
      name: name.replace(/^[`|├└─\s]+/, ""),
      sizeBytes: size,
      rotational: parseBool(o.rota),
      transport: str(o.tran),
      type: str(o.type) ?? "unknown",
      model: str(o.model),
      fstype: str(o.fstype),
      mountpoints: mountpointsOf(o),
      children,
    },
  ];
}

function str(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const t = v.trim();
  return t === "" ? null : t;
}

/** true/false, "1"/"0", 1/0 — util-linux changed the JSON types over the years. */
function parseBool(v: unknown): boolean | null {
  if (typeof v === "boolean") return v;
  if (v === 1 || v === "1" || v === "true") return true;
  if (v === 0 || v === "0" || v === "false") return false;
  return null;
}

function mountpointsOf(o: Record<string, unknown>): string[] {
  if (Array.isArray(o.mountpoints)) return o.mountpoints.filter((m): m is string => typeof m === "string" && m !== "");
  if (typeof o.mountpoint === "string" && o.mountpoint !== "") return [o.mountpoint];
  return [];
}

/** Bytes from 1000204886016, "1000204886016", or lsblk's human sizes ("1.8T", "512M", base 1024). */
export function parseSize(v: unknown): number | null {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v !== "string") return null;
  const s = v.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : null;
  }
  const m = /^(\d+(?:[.,]\d+)?)\s*([BKMGTPE])i?B?$/i.exec(s);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  const exp = "BKMGTPE".indexOf(m[2].toUpperCase());
  const n = Math.round(Number(m[1].replace(",", ".")) * 1024 ** exp);
  return Number.isSafeInteger(n) ? n : null;
}

/** The default `lsblk` table (NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINT[S]) with its tree glyphs. */
function parseLsblkTable(text: string, sink: WarningSink): DiskFacts[] {
  const rows = lines(text).filter((l) => l.trim() !== "");
  const header = rows[0]?.trim().split(/\s+/).map((h) => h.toUpperCase()) ?? [];
  const col = (n: string): number => header.indexOf(n);
  if (col("NAME") !== 0 || col("TYPE") < 0) {
    sink.add("neither lsblk JSON nor an lsblk table with NAME and TYPE columns");
    return [];
  }
  const roots: DiskFacts[] = [];
  const stack: { depth: number; disk: DiskFacts }[] = [];
  for (const row of rows.slice(1)) {
    const m = /^([\s│├└─|`-]*)(\S+)\s*(.*)$/.exec(row);
    if (!m || m[2] === undefined) continue;
    const depth = Math.floor((m[1] ?? "").length / 2);
    const cells = [m[2], ...(m[3] ?? "").trim().split(/\s+/)];
    const disk: DiskFacts = {
      name: m[2],
      sizeBytes: col("SIZE") >= 0 ? parseSize(cells[col("SIZE")]) : null,
      rotational: col("ROTA") >= 0 ? parseBool(cells[col("ROTA")]) : null,
      transport: col("TRAN") >= 0 ? (cells[col("TRAN")] ?? null) : null,
      type: cells[col("TYPE")] ?? "unknown",
      model: null,
      fstype: null,
      mountpoints: [],
      children: [],
    };
    const mp = Math.max(col("MOUNTPOINT"), col("MOUNTPOINTS"));
    if (mp >= 0 && cells[mp] !== undefined) disk.mountpoints = [cells.slice(mp).join(" ")];
    while (stack.length > 0 && (stack.at(-1)?.depth ?? 0) >= depth) stack.pop();
    const parent = stack.at(-1);
    if (parent && depth > 0) parent.disk.children.push(disk);
    else roots.push(disk);
    stack.push({ depth, disk });
  }
  return roots;
}
