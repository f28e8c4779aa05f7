// Small shared helpers for the pure capture parsers: results with warnings, number and state normalisation.
import type { ProbeWarning } from "../facts.js";

/** What every parser returns: the facts it could read plus what it could not. */
export interface Parsed<T> {
  value: T;
  warnings: ProbeWarning[];
}

/** Collects warnings for one capture so parsers stay short. */
export class WarningSink {
  readonly warnings: ProbeWarning[] = [];
  constructor(readonly capture: string) {}
  add(message: string): void {
    if (this.warnings.length < 50) this.warnings.push({ capture: this.capture, message });
  }
}

/** Runs a parser body and turns any unexpected exception into a warning, so no input ever throws. */
export function safely<T>(capture: string, fallback: T, body: (sink: WarningSink) => T): Parsed<T> {
  const sink = new WarningSink(capture);
  try {
    const value = body(sink);
    return { value, warnings: sink.warnings };
  } catch (err) {
    sink.add(`could not be read: ${err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200)}`);
    return { value: fallback, warnings: sink.warnings };
  }
}

/** Lines without trailing CR, so captures saved on Windows parse the same. */
export function lines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, ""));
}

/** A finite non-negative integer from a string like "81920", "81920 MiB", "0x10"; null otherwise. */
export function toInt(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isFinite(raw) ? Math.trunc(raw) : null;
  if (typeof raw !== "string") return null;
  const s = raw.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) {
    const n = Number.parseInt(s, 16);
    return Number.isSafeInteger(n) ? n : null;
  }
  const m = /^-?\d+/.exec(s);
  if (!m) return null;
  const n = Number(m[0]);
  return Number.isSafeInteger(n) ? n : null;
}

/** A finite float from the start of a string ("50.0 Gbps (64)" → 50). */
export function toFloat(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : null;
  if (typeof raw !== "string") return null;
  const m = /^\s*(-?\d+(?:\.\d+)?)/.exec(raw);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

/** MiB from "81920 MiB", "80 GiB", "512 KiB"; a bare number is taken as MiB (nvidia-smi nounits). */
export function toMiB(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isFinite(raw) ? Math.round(raw) : null;
  if (typeof raw !== "string") return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)?\s*$/i.exec(raw);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? "MiB").toUpperCase().replace("I", "");
  const factor: Record<string, number> = { KB: 1 / 1024, MB: 1, GB: 1024, TB: 1024 * 1024 };
  const f = factor[unit];
  return f === undefined ? null : Math.round(n * f);
}

/** Upper-case port state: "PORT_ACTIVE (4)", "Active", "4: ACTIVE" → "ACTIVE"; "LinkUp" → "LINK_UP". */
export function normaliseState(raw: unknown): string | null {
  if (typeof raw !== "string") return null;
  let s = raw.trim();
  if (s === "") return null;
  s = s.replace(/\s*\(\d+\)\s*$/, ""); // "PORT_ACTIVE (4)"
  s = s.replace(/^\d+\s*:\s*/, ""); // "4: ACTIVE"
  s = s.replace(/^PORT_/i, "");
  s = s.replace(/([a-z])([A-Z])/g, "$1_$2"); // "LinkUp" → "Link_Up"
  s = s.replace(/[\s-]+/g, "_").toUpperCase();
  return s === "" ? null : s;
}

/** Gb/s from "100 Gb/sec (4X EDR)", "200", "50.0 Gbps" etc. */
export function parseRateGbps(raw: unknown): number | null {
  const n = toFloat(raw);
  return n === null || n < 0 ? null : n;
}

/** Node GUID as ibv_devinfo prints it ("88e9:a4ff:ff25:a462"), whatever the tool's spelling ("0x88e9a4ffff25a462"). */
export function normaliseGuid(raw: unknown): string | null {
  if (typeof raw !== "string") return null;
  const hex = raw.trim().toLowerCase().replace(/^0x/, "").replace(/:/g, "");
  if (!/^[0-9a-f]{1,16}$/.test(hex)) return null;
  const padded = hex.padStart(16, "0");
  return `${padded.slice(0, 4)}:${padded.slice(4, 8)}:${padded.slice(8, 12)}:${padded.slice(12, 16)}`;
}

/** Splits "key:   value" (first colon); null when the line has no colon. */
export function splitKeyValue(line: string, sep = ":"): [string, string] | null {
  const i = line.indexOf(sep);
  if (i < 0) return null;
  return [line.slice(0, i).trim(), line.slice(i + sep.length).trim()];
}

/** True when a value is one of nvidia-smi's "not available" spellings. */
export function isNotAvailable(v: unknown): boolean {
  return typeof v !== "string" || /^\s*(\[?N\/A\]?|\[Not Supported\]|Not Supported|None|)\s*$/i.test(v);
}
