// Bundles known to the admin service: only verified ones are ever inserted.
import type { StateDb } from "../db/open.js";
import type { VerifiedBundle } from "../ports.js";

export interface BundleRecord extends VerifiedBundle {
  id: number;
  path: string;
  source: "upload" | "path";
  addedAt: string;
  addedBy: string | null;
}

/** Reads and writes the bundles table. */
export class BundleStore {
  constructor(private readonly db: StateDb) {}

  add(b: VerifiedBundle, path: string, source: BundleRecord["source"], by: string | null, now: Date): BundleRecord {
    const info = this.db
      .prepare(
        "INSERT INTO bundles (name, version, path, sha256, size_bytes, components, source, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET name = excluded.name, version = excluded.version, sha256 = excluded.sha256, size_bytes = excluded.size_bytes, components = excluded.components, added_at = excluded.added_at, added_by = excluded.added_by RETURNING id",
      )
      .get(b.name, b.version, path, b.sha256, b.sizeBytes, JSON.stringify(b.components), source, now.toISOString(), by) as { id: number };
    return this.get(info.id)!;
  }

  list(): BundleRecord[] {
    return (this.db.prepare("SELECT * FROM bundles ORDER BY id DESC").all() as Row[]).map(toRecord);
  }

  get(id: number): BundleRecord | undefined {
    const row = this.db.prepare("SELECT * FROM bundles WHERE id = ?").get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }
}

interface Row {
  id: number;
  name: string;
  version: string;
  path: string;
  sha256: string;
  size_bytes: number;
  components: string;
  source: BundleRecord["source"];
  added_at: string;
  added_by: string | null;
}

function toRecord(r: Row): BundleRecord {
  return { id: r.id, name: r.name, version: r.version, path: r.path, sha256: r.sha256, sizeBytes: r.size_bytes, components: JSON.parse(r.components) as Record<string, string>, source: r.source, addedAt: r.added_at, addedBy: r.added_by };
}

/** Pure: what would change per component going from `installed` to `bundle`. */
export function diffComponents(installed: Record<string, string>, bundle: Record<string, string>): { name: string; from: string | null; to: string | null; change: "upgrade" | "add" | "remove" | "same" | "downgrade" }[] {
  const names = [...new Set([...Object.keys(installed), ...Object.keys(bundle)])].sort();
  return names.map((name) => {
    const from = installed[name] ?? null;
    const to = bundle[name] ?? null;
    if (from === null) return { name, from, to, change: "add" as const };
    if (to === null) return { name, from, to, change: "remove" as const };
    if (from === to) return { name, from, to, change: "same" as const };
    return { name, from, to, change: compareVersions(to, from) < 0 ? ("downgrade" as const) : ("upgrade" as const) };
  });
}

/** Compares dotted versions numerically where both parts are numbers ("1.10" > "1.9"), else as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, "").split(/[.+-]/);
  const pb = b.replace(/^v/, "").split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}
