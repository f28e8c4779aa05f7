// Service settings an admin may change from the console: typed, with defaults, each change audited by the caller.
import type { StateDb } from "../db/open.js";

/** Every setting and its default; the API schema (routes/settings.ts) bounds each value. */
export const DEFAULT_SETTINGS = {
  loginMaxFailures: 5,
  lockoutMinutes: 15,
  sessionIdleMinutes: 30,
  sessionMaxHours: 8,
  portalUrl: "",
} as const;

export type Settings = { -readonly [K in keyof typeof DEFAULT_SETTINGS]: (typeof DEFAULT_SETTINGS)[K] extends number ? number : string };
export type SettingKey = keyof Settings;

/** Reads settings (defaults filled in) and writes changes. */
export class SettingsStore {
  private cache: Settings | null = null;
  constructor(private readonly db: StateDb) {}

  get(): Settings {
    if (this.cache) return this.cache;
    const out: Settings = { ...DEFAULT_SETTINGS };
    for (const row of this.db.prepare("SELECT key, value FROM settings").all() as { key: string; value: string }[]) {
      if (row.key in DEFAULT_SETTINGS) (out as Record<string, unknown>)[row.key] = JSON.parse(row.value);
    }
    this.cache = out;
    return out;
  }

  /** Writes the given keys; returns each changed key with its old and new value. */
  update(patch: Partial<Settings>, by: string, now: Date): { key: SettingKey; from: unknown; to: unknown }[] {
    const before = this.get();
    const changes: { key: SettingKey; from: unknown; to: unknown }[] = [];
    const upsert = this.db.prepare(
      "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    );
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch) as [SettingKey, unknown][]) {
        if (value === undefined || before[key] === value) continue;
        upsert.run(key, JSON.stringify(value), now.toISOString(), by);
        changes.push({ key, from: before[key], to: value });
      }
    })();
    this.cache = null;
    return changes;
  }
}
