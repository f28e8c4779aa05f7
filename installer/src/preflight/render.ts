// The human view of preflight outcomes: a checklist per host, grouped by area, failures first, each with required/found/fix.
import type { Style } from "../probe/render.js";
import type { CheckSpec } from "./checks.js";
import type { Outcome, OutcomeStatus } from "./preflight.js";

const STATUS_RANK: Record<OutcomeStatus, number> = { fail: 0, bypassed: 1, warn: 2, pass: 3 };
const AREAS: readonly CheckSpec["area"][] = ["bundle", "host", "os", "resources", "system", "runtime", "network", "gpu", "rdma", "cluster"];
const areaRank = (a: string) => {
  const i = AREAS.indexOf(a as CheckSpec["area"]);
  return i < 0 ? AREAS.length : i;
};

/** Counts per status, for the summary line and JSON output. */
export function countOutcomes(outcomes: readonly Outcome[]): Record<OutcomeStatus, number> {
  const c: Record<OutcomeStatus, number> = { fail: 0, bypassed: 0, warn: 0, pass: 0 };
  for (const o of outcomes) c[o.status]++;
  return c;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function summaryOf(c: Record<OutcomeStatus, number>): string {
  const parts = [c.fail ? `${c.fail} failed` : null, c.warn ? plural(c.warn, "warning") : null, c.bypassed ? `${c.bypassed} bypassed` : null, `${c.pass} passed`];
  return parts.filter(Boolean).join(", ");
}

/** Host → outcomes, hosts with failures first, then with bypasses or warnings, then the clean ones (by name within each). */
function byHost(outcomes: readonly Outcome[]): [string, Outcome[]][] {
  const groups = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    let g = groups.get(o.host);
    if (!g) groups.set(o.host, (g = []));
    g.push(o);
  }
  const worst = (os: Outcome[]) => Math.min(...os.map((o) => STATUS_RANK[o.status]));
  return [...groups].sort(([a, x], [b, y]) => (a === "bundle" ? -1 : b === "bundle" ? 1 : 0) || worst(x) - worst(y) || a.localeCompare(b));
}

/** One host's checklist lines. */
function hostBlock(host: string, os: Outcome[], style: Style): string[] {
  const c = countOutcomes(os);
  const head = host === "bundle" ? "bundle (checked once for the whole cluster)" : host;
  const mark = c.fail ? style.bad("FAILED") : c.warn || c.bypassed ? style.warn("ok with warnings") : style.ok("OK");
  const lines = [`${style.bold(head)}  ${mark}  ${style.dim(summaryOf(c))}`];
  const problems = os.filter((o) => o.status !== "pass").sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || areaRank(a.area) - areaRank(b.area));
  for (const o of problems) {
    const tag = o.status === "fail" ? style.bad("[FAIL]") : o.status === "warn" ? style.warn("[WARN]") : style.warn("[BYPASSED]");
    const was = o.status === "bypassed" ? ` — would ${o.severity === "fail" ? "fail" : "warn"}; bypassed with --ignore` : "";
    lines.push(`  ${tag} ${o.area}: ${o.title} ${style.dim(`(${o.checkId})`)}${was}`);
    lines.push(`         required: ${o.required}`);
    lines.push(`         found:    ${o.found}`);
    if (o.remedy) lines.push(`         fix:      ${o.remedy}`);
  }
  const passed = new Map<string, string[]>();
  for (const o of os.filter((x) => x.status === "pass").sort((a, b) => areaRank(a.area) - areaRank(b.area))) {
    const list = passed.get(o.area) ?? [];
    list.push(o.title);
    passed.set(o.area, list);
  }
  for (const [area, titles] of passed) lines.push(`  ${style.ok("[ok]")}   ${area}: ${titles.join("; ")}`);
  return lines;
}

/** The whole checklist plus a closing summary naming every failing check per host. */
export function renderPreflight(outcomes: readonly Outcome[], opts: { style: Style; bundleLine: string }): string {
  const { style } = opts;
  const hosts = byHost(outcomes);
  const realHosts = hosts.filter(([h]) => h !== "bundle").length;
  const out: string[] = [`Preflight of ${plural(realHosts, "host")} for ${opts.bundleLine}`, ""];
  for (const [host, os] of hosts) out.push(...hostBlock(host, os, style), "");
  const c = countOutcomes(outcomes);
  out.push(`${style.bold("Summary:")} ${summaryOf(c)} (${plural(outcomes.length, "check")} on ${plural(realHosts, "host")})`);
  const failing = hosts.filter(([, os]) => os.some((o) => o.status === "fail"));
  if (failing.length > 0) {
    const failedHosts = failing.filter(([h]) => h !== "bundle").length;
    out.push(style.bad(failedHosts > 0 ? `failed on ${plural(failedHosts, "host")}: ` : "failed: ") +
      failing.map(([h, os]) => `${h}: ${[...new Set(os.filter((o) => o.status === "fail").map((o) => o.checkId))].join(", ")}`).join("; "));
    out.push("Fix the failures above and run `omstack preflight` again, or bypass a check knowingly with --ignore CHECK_ID (the bypass is recorded in the plan).");
  } else if (c.bypassed > 0) {
    out.push(style.warn(`no failures, but ${c.bypassed} bypassed (${[...new Set(outcomes.filter((o) => o.status === "bypassed").map((o) => o.checkId))].join(", ")}): recorded in the plan`));
  } else {
    out.push(style.ok("all required checks passed"));
  }
  return out.join("\n") + "\n";
}
