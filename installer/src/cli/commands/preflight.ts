// `omstack preflight`: every check on every host, reported together as a checklist; exit 1 if any fails.
import type { Command } from "commander";
import { loadServiceDir } from "../../preflight/services.fs.js";
import { hasFailures } from "../../preflight/preflight.js";
import { countOutcomes, renderPreflight } from "../../preflight/render.js";
import { preflightAndPlan } from "../../plan/pipeline.js";
import { ansiStyle, plainStyle } from "../../probe/render.js";
import {
  addBundleOptions,
  addFactSourceOptions,
  addPlanChoiceOptions,
  defaultServicesDir,
  gatherFacts,
  planChoices,
  resolveBundle,
  validateIgnore,
  type BundleFlags,
  type FactSourceFlags,
  type PlanChoiceFlags,
  type ResolvedBundle,
} from "../options.js";
import type { Runtime } from "../runtime.js";
import type { Register } from "../main.js";

/** "CUDA 12.8, Kubernetes 1.33.4, containerd 2.1.4 (default versions …)" for report headers. */
export function describeBundle(b: ResolvedBundle): string {
  const v = b.versions;
  return `CUDA ${v.cudaVersion}, Kubernetes ${v.kubernetesVersion}, containerd ${v.containerdVersion} — ${b.source}`;
}

/** Shared by preflight and plan: resolve the bundle, check --ignore ids, load services, gather facts, evaluate. */
export async function runPipeline(rt: Runtime, names: string[], flags: FactSourceFlags & BundleFlags & PlanChoiceFlags) {
  const options = planChoices(flags);
  const bundle = await resolveBundle(flags);
  validateIgnore(flags.ignore, bundle.versions);
  const services = loadServiceDir(flags.services ?? defaultServicesDir());
  const gathered = await gatherFacts(rt, flags, names);
  rt.log.info({ source: gathered.source, hosts: gathered.facts.length, bundle: bundle.versions, bundleSource: bundle.source, ignore: flags.ignore }, "preflight inputs");
  const started = performance.now();
  const result = preflightAndPlan({ inventory: gathered.inventory, facts: gathered.facts, bundle: bundle.versions, services, ignore: flags.ignore, options });
  rt.log.info({ ms: Math.round(performance.now() - started), counts: countOutcomes(result.outcomes) }, "preflight and plan evaluated");
  return { ...result, bundle, gathered };
}

/** Adds `omstack preflight` to the program. */
export const registerPreflight: Register = (program: Command, run) => {
  const cmd = program
    .command("preflight")
    .description("check every host against the bundle and the platform's requirements; report every problem with its fix")
    .argument("[host...]", "only these hosts (default: all)");
  addFactSourceOptions(cmd, { factsFile: true });
  addPlanChoiceOptions(addBundleOptions(cmd))
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  omstack preflight -i omstack.yaml                      # probe over SSH, then check",
        "  omstack preflight --facts facts.json --bundle omstack-2026.1-amd64.tar",
        "  omstack preflight --from-capture ./captures --ignore rdma.ports-down -o json",
        "",
        "Check ids and fixes: docs/preflight.md. Exit codes: 0 no check failed (warnings allowed), 1 a check failed, 2 bad usage or input.",
      ].join("\n"),
    )
    .action(async (names: string[], flags: FactSourceFlags & BundleFlags & PlanChoiceFlags) =>
      run("preflight", async (rt) => {
        const { outcomes, plan, bundle, gathered } = await runPipeline(rt, names, flags);
        rt.print(
          { source: gathered.source, bundle: { ...bundle.versions, source: bundle.source }, summary: countOutcomes(outcomes), bypassedChecks: plan.bypassedChecks, outcomes },
          () => renderPreflight(outcomes, { style: rt.color ? ansiStyle : plainStyle, bundleLine: `${describeBundle(bundle)}; facts from ${gathered.source}` }),
        );
        return hasFailures(outcomes) ? 1 : 0;
      }),
    );
};
