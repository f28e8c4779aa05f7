// `omstack plan`: preflight, then the Plan (what goes where, which disks are erased, which services run) — or why not.
import { chmod, readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { AggregateOmstackError, OmstackError } from "../../errors.js";
import type { Outcome } from "../../preflight/preflight.js";
import { diffPlans } from "../../plan/diff.js";
import { renderDiff, renderPlan } from "../../plan/render.js";
import type { Plan } from "../../plan/types.js";
import { ansiStyle, plainStyle } from "../../probe/render.js";
import { addBundleOptions, addFactSourceOptions, addPlanChoiceOptions, type BundleFlags, type FactSourceFlags, type PlanChoiceFlags } from "../options.js";
import { describeBundle, runPipeline } from "./preflight.js";
import type { Register } from "../main.js";

interface PlanFlags extends FactSourceFlags, BundleFlags, PlanChoiceFlags {
  diff?: string;
  save?: string;
}

const MAX_LISTED_FAILURES = 50;

/** The refusal: every failing check (up to a cap) with its host, requirement, finding and fix. */
export function preflightFailedError(outcomes: readonly Outcome[]): AggregateOmstackError {
  const failed = outcomes.filter((o) => o.status === "fail");
  const hosts = new Set(failed.map((o) => o.host));
  const ids = [...new Set(failed.map((o) => o.checkId))];
  const listed = failed.slice(0, MAX_LISTED_FAILURES).map(
    (o) => new OmstackError("E_PREFLIGHT_FAILED", `${o.checkId} (${o.title}): required ${o.required}; found ${o.found}`, { host: o.host, remedy: o.remedy }),
  );
  const more = failed.length > MAX_LISTED_FAILURES ? ` (first ${MAX_LISTED_FAILURES} shown; omstack preflight lists them all)` : "";
  return new AggregateOmstackError(
    "E_PREFLIGHT_FAILED",
    `no plan was made: ${failed.length} preflight check${failed.length === 1 ? "" : "s"} failed on ${hosts.size} host${hosts.size === 1 ? "" : "s"}${more}. ` +
      `Fix them, or bypass knowingly with ${ids.map((id) => `--ignore ${id}`).join(" ")} (bypasses are recorded in the plan)`,
    listed,
  );
}

/** Reads a plan saved by `omstack plan -o json` (or the {changes, plan} that --diff -o json prints), checking its shape. */
export async function readPlanFile(path: string): Promise<Plan> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new OmstackError("E_PLAN_FILE", `cannot read the old plan ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`, { remedy: "pass a plan saved with `omstack plan --output json > plan.json` (or --save plan.json)" });
  }
  const p = (data !== null && typeof data === "object" && "plan" in data && !("nodes" in data) ? (data as { plan: unknown }).plan : data) as Partial<Plan> | null;
  const ok =
    p !== null &&
    typeof p === "object" &&
    p.formatVersion === 1 &&
    Array.isArray(p.nodes) &&
    p.nodes.every((n) => n && typeof n.host === "string" && Array.isArray(n.roles) && Array.isArray(n.disks) && Array.isArray(n.taints) && typeof n.labels === "object") &&
    Array.isArray(p.services) &&
    p.services.every((s) => s && typeof s.name === "string" && typeof s.enabled === "boolean") &&
    Array.isArray(p.bypassedChecks);
  if (!ok) {
    const found = p !== null && typeof p === "object" && "formatVersion" in p ? `formatVersion ${JSON.stringify(p.formatVersion)} or missing nodes/services` : "no formatVersion/nodes/services";
    throw new OmstackError("E_PLAN_FILE", `${path} is not an omstack plan (format 1): ${found}`, { remedy: "pass a plan saved with `omstack plan --output json > plan.json` (or --save plan.json)" });
  }
  return p as Plan;
}

/** Adds `omstack plan` to the program. */
export const registerPlan: Register = (program: Command, run) => {
  const cmd = program
    .command("plan")
    .description("decide roles, labels, disks (and which are erased), the RDMA plane and services from the probed facts; runs preflight first")
    .argument("[host...]", "only these hosts (default: all)");
  addFactSourceOptions(cmd, { factsFile: true });
  addPlanChoiceOptions(addBundleOptions(cmd))
    .option("--diff <old.json>", "show what changed since a plan saved earlier (upgrades, re-runs)")
    .option("--save <file>", "also write the plan as JSON to FILE (mode 0600), e.g. for a later --diff")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  omstack plan -i omstack.yaml",
        "  omstack plan --facts facts.json --output json > plan.json",
        "  omstack plan --facts facts.json --diff plan.json",
        "  omstack plan --from-capture ./captures --ignore swap.off",
        "",
        "The Plan format: docs/plan.md. Exit codes: 0 plan made, 1 preflight failed (nothing planned), 2 bad usage or input.",
      ].join("\n"),
    )
    .action(async (names: string[], flags: PlanFlags) =>
      run("plan", async (rt) => {
        const old = flags.diff ? await readPlanFile(flags.diff) : null;
        const { outcomes, plan, bundle, gathered } = await runPipeline(rt, names, flags);
        if (outcomes.some((o) => o.status === "fail")) throw preflightFailedError(outcomes);
        if (flags.save) {
          await writeFile(flags.save, JSON.stringify(plan, null, 2) + "\n", { mode: 0o600 });
          await chmod(flags.save, 0o600);
        }
        const style = rt.color ? ansiStyle : plainStyle;
        const header = `Facts from ${gathered.source}; ${describeBundle(bundle)}\n`;
        if (old) {
          const changes = diffPlans(old, plan);
          rt.print({ changes, plan }, () => header + renderDiff(changes, flags.diff!, style));
        } else {
          rt.print(plan, () => header + renderPlan(plan, style));
        }
        if (flags.save) rt.note(`plan saved to ${flags.save}`);
        const warned = outcomes.filter((o) => o.status === "warn").length;
        if (rt.output === "table" && (warned > 0 || plan.bypassedChecks.length > 0)) {
          rt.note(`preflight: ${warned} warning${warned === 1 ? "" : "s"}${plan.bypassedChecks.length ? `, bypassed: ${plan.bypassedChecks.join(", ")}` : ""} (omstack preflight shows them)`);
        }
        return 0;
      }),
    );
};
