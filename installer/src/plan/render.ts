// The human view of a Plan: roles, labels and taints per node, disks to be ERASED called out, the RDMA plane, services and why.
import { formatBytes, type Style } from "../probe/render.js";
import { formatDiff, type PlanChange } from "./diff.js";
import type { Plan, PlanDisk } from "./types.js";

const MAX_VALUES_CHARS = 240;

function bundleLine(p: Plan): string {
  const b = p.bundle;
  const parts = [b.cudaVersion ? `CUDA ${b.cudaVersion}` : null, b.kubernetesVersion ? `Kubernetes ${b.kubernetesVersion}` : null, b.containerdVersion ? `containerd ${b.containerdVersion}` : null].filter(Boolean);
  return `${b.version ? `bundle ${b.version}` : "bundle versions"} (${parts.join(", ") || "unknown"})`;
}

function diskLine(d: PlanDisk, style: Style): string {
  const what = `${d.name} ${formatBytes(d.sizeBytes)} ${d.class}`;
  if (d.wipe) return `${style.bad(style.bold("ERASE"))} ${what} → ${d.use ?? "(unused)"} — ${d.reason}`;
  if (d.use) return `${what} → ${d.use} — ${d.reason}`;
  return style.dim(`${what} — ${d.reason}`);
}

/** The plan as a reviewable document (the JSON form is what install executes). */
export function renderPlan(p: Plan, style: Style): string {
  const out: string[] = [`Plan for ${p.nodes.length} node${p.nodes.length === 1 ? "" : "s"}, ${bundleLine(p)}`, ""];
  const w = Math.max(8, ...p.nodes.map((n) => n.host.length));
  const pad = " ".repeat(w + 4);

  out.push(style.bold("Nodes"));
  for (const n of p.nodes) {
    out.push(`  ${style.bold(n.host.padEnd(w))}  ${n.roles.join(", ")}`);
    const labels = Object.entries(n.labels).map(([k, v]) => `${k}=${v}`);
    out.push(`${pad}labels: ${labels.length ? labels.join(" ") : "(none)"}`);
    out.push(`${pad}taints: ${n.taints.length ? n.taints.join(" ") : "(none)"}`);
    if (n.disks.length === 0) out.push(`${pad}disks:  (none found)`);
    n.disks.forEach((d, i) => out.push(`${pad}${i === 0 ? "disks:  " : "        "}${diskLine(d, style)}`));
    out.push(`${pad}rdma:   ${n.rdmaInterface ?? "(none)"}`);
    for (const r of n.reasons) out.push(`${pad}${style.dim("why:    " + r)}`);
  }
  out.push("");

  const erased = p.nodes.flatMap((n) => n.disks.filter((d) => d.wipe).map((d) => ({ host: n.host, d })));
  out.push(style.bold("Disks that will be ERASED"));
  if (erased.length === 0) out.push("  (none: only empty disks are used; a disk holding data is used only when listed under wipe:)");
  for (const { host, d } of erased) out.push(`  ${style.bad("!!")} ${host}: /dev/${d.name} ${formatBytes(d.sizeBytes)} ${d.class} → ${d.use ?? "(unused)"} — ${d.reason}`);
  out.push("");

  out.push(style.bold("RDMA network plane (shuffle and cache traffic)"));
  const rdma = p.nodes.filter((n) => n.rdmaInterface !== null);
  if (rdma.length === 0) out.push("  (none: no node carries RDMA traffic; shuffle and cache use TCP)");
  for (const n of rdma) out.push(`  ${n.host.padEnd(w)}  ${n.rdmaInterface}${style.dim(`  ${n.reasons.find((r) => r.startsWith("RDMA traffic")) ?? ""}`)}`);
  out.push("");

  out.push(style.bold("Services"));
  const sw = Math.max(...p.services.map((s) => s.name.length), 4);
  for (const s of [...p.services].sort((a, b) => Number(b.enabled) - Number(a.enabled) || a.name.localeCompare(b.name))) {
    out.push(`  ${s.enabled ? style.ok("[on] ") : style.warn("[off]")} ${s.name.padEnd(sw)}  ${s.reason}`);
    if (s.enabled && Object.keys(s.values).length > 0) {
      const v = JSON.stringify(s.values);
      out.push(`        ${" ".repeat(sw)}  ${style.dim("values: " + (v.length > MAX_VALUES_CHARS ? v.slice(0, MAX_VALUES_CHARS) + "… (full values: --output json)" : v))}`);
    }
  }
  out.push("");

  out.push(p.bypassedChecks.length ? style.warn(`Bypassed preflight checks (recorded): ${p.bypassedChecks.join(", ")}`) : "Bypassed preflight checks: none");
  if (p.excluded.length) {
    out.push(style.warn("Hosts left out:"));
    for (const e of p.excluded) out.push(`  ${e.host}: ${e.reason}`);
  }
  if (p.decisions.length) {
    out.push(style.bold("Decisions"));
    for (const d of p.decisions) out.push(`  - ${d}`);
  }
  return out.join("\n") + "\n";
}

const wipes = (v: unknown): number =>
  v === null || typeof v !== "object" ? 0 : Object.entries(v as Record<string, unknown>).reduce((n, [k, x]) => n + (k === "wipe" && x === true ? 1 : wipes(x)), 0);

/** What changed since an older plan, one line per change; changes that add an erasure are called out. */
export function renderDiff(changes: readonly PlanChange[], oldLabel: string, style: Style): string {
  if (changes.length === 0) return `No changes since ${oldLabel}.\n`;
  const text = formatDiff(changes);
  const lines = changes.map((c, i) => {
    const erase = c.path.endsWith(".wipe") ? c.after === true && c.before !== true : wipes(c.after) > wipes(c.before);
    return `  ${erase ? style.bad(`!! ${text[i]}  (adds a disk to ERASE)`) : text[i]}`;
  });
  return [`${changes.length} change${changes.length === 1 ? "" : "s"} since ${oldLabel}:`, ...lines].join("\n") + "\n";
}
