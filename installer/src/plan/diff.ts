// diffPlans: what changed between two plans (upgrades, re-runs), as readable lines.
import type { Plan } from "./types.js";

/** One change: a path into the plan and the before/after values (undefined = absent). */
export interface PlanChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** Structural difference keyed by host and service name, not by array position. */
export function diffPlans(a: Plan, b: Plan): PlanChange[] {
  const out: PlanChange[] = [];
  const keyed = (p: Plan) => ({
    bundle: p.bundle,
    nodes: Object.fromEntries(p.nodes.map((n) => [n.host, { ...n, disks: Object.fromEntries(n.disks.map((d) => [d.name, { use: d.use, wipe: d.wipe }])), reasons: undefined }])),
    services: Object.fromEntries(p.services.map((s) => [s.name, { enabled: s.enabled, values: s.values }])),
    bypassedChecks: p.bypassedChecks,
  });
  walk("", keyed(a), keyed(b), out);
  return out;
}

function walk(path: string, x: unknown, y: unknown, out: PlanChange[]): void {
  if (JSON.stringify(x) === JSON.stringify(y)) return;
  const isObj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObj(x) && isObj(y)) {
    const keys = [...new Set([...Object.keys(x as object), ...Object.keys(y as object)])].sort();
    for (const k of keys) walk(path ? `${path}.${k}` : k, (x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], out);
    return;
  }
  out.push({ path, before: x, after: y });
}

/** "nodes.gpu-03.roles: [worker] → [worker, gpu]" lines for the terminal. */
export function formatDiff(changes: readonly PlanChange[]): string[] {
  const show = (v: unknown) => (v === undefined ? "(none)" : JSON.stringify(v));
  return changes.map((c) => `${c.path}: ${show(c.before)} → ${show(c.after)}`);
}
