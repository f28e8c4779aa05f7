// Runtime values of the expression language: JSON-like data plus Version, with null-safe helpers.

/** A parsed version ("535.54.03", "v1.30.2", "5.8-1.0.1.1", "1.31.0-rc.1"); compared part by part. */
export class Version {
  constructor(
    readonly parts: readonly number[],
    readonly pre: string | null,
    readonly raw: string,
  ) {}
  toString(): string {
    return this.raw;
  }
}

/** Every value an expression can produce or read. Objects are plain records (HostFacts and friends). */
export type Value = null | number | string | boolean | Version | Value[] | { readonly [key: string]: unknown };

const VERSION_RE = /^[vV]?(\d{1,9}(?:\.\d{1,9}){0,7})((?:-\d{1,9}(?:\.\d{1,9}){0,7}){0,3})(?:-([0-9A-Za-z][0-9A-Za-z.-]{0,63}))?(?:\+[0-9A-Za-z.-]{0,64})?(?:[^0-9].*)?$/s;

/** Parses a version leniently (driver, kernel, OFED and semver styles); null when the text has no leading number. */
export function parseVersion(text: string): Version | null {
  const s = text.trim();
  if (s.length === 0 || s.length > 128) return null;
  const m = VERSION_RE.exec(s);
  if (!m) return null;
  const parts = (m[1] as string).split(".").map(Number);
  const builds = m[2] ? (m[2] as string).split("-").filter(Boolean).flatMap((b) => b.split(".").map(Number)) : [];
  // "1.30.0-rc.1" is a pre-release; "5.15.0-25-generic" and "5.8-1.0.1.1" carry numeric build parts instead.
  const pre = builds.length === 0 && m[3] !== undefined ? (m[3] as string) : null;
  return new Version([...parts, ...builds], pre, s);
}

/** -1, 0 or 1; missing parts count as 0, and a pre-release sorts before its release. */
export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    const x = a.parts[i] ?? 0;
    const y = b.parts[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === null) return 1;
  if (b.pre === null) return -1;
  const pa = a.pre.split(".");
  const pb = b.pre.split(".");
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The type name used in messages: "number", "string", "list", "object", ... */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof Version) return "version";
  if (Array.isArray(v)) return "list";
  const t = typeof v;
  if (t === "number" || t === "string" || t === "boolean") return t === "boolean" ? "bool" : t;
  if (t === "object") return "object";
  return "unsupported value";
}

/** Turns anything read from facts into a language value: undefined becomes null, functions vanish. */
export function normalize(v: unknown): Value {
  if (v === undefined || v === null) return null;
  const t = typeof v;
  if (t === "number") return Number.isFinite(v) ? (v as number) : null;
  if (t === "string" || t === "boolean") return v as string | boolean;
  if (v instanceof Version || Array.isArray(v)) return v as Value;
  if (t === "object") return v as { [key: string]: unknown };
  return null;
}

/** Human text for messages: strings bare, lists comma-separated, bytes left to the `bytes()` function. */
export function display(v: unknown, depth = 0): string {
  const x = normalize(v);
  if (x === null) return "none";
  if (typeof x === "string") return x;
  if (typeof x === "number") return Number.isInteger(x) ? String(x) : String(Math.round(x * 1000) / 1000);
  if (typeof x === "boolean") return x ? "yes" : "no";
  if (x instanceof Version) return x.raw;
  if (Array.isArray(x)) {
    if (x.length === 0) return "none";
    const shown = x.slice(0, 20).map((e) => display(e, depth + 1));
    return shown.join(", ") + (x.length > 20 ? `, … (${x.length} in all)` : "");
  }
  if (depth > 2) return "{…}";
  return JSON.stringify(x).slice(0, 200);
}

/** "64 GiB", "1.5 TiB": sizes the way operators read them. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, "");
  return `${n < 0 ? "-" : ""}${text} ${units[u]}`;
}
