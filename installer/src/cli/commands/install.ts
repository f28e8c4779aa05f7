// `omstack install`: probe → preflight → plan → the resumable step engine over SSH, journaled in the state directory.
// Today it lays down the host-preparation steps (swap off, kernel modules, sysctls); the Kubernetes and service steps
// join the same step list as they land (docs/install.md).
import type { Command } from "commander";
import { OmstackError } from "../../errors.js";
import { defaultStateDir } from "../../config/paths.js";
import { execute } from "../../executor/executor.js";
import { sessionHosts } from "../../executor/contexts.js";
import { formatEvent } from "../../executor/events.js";
import { hostPreparationSteps } from "../../steps/index.js";
import { SshConnector } from "../../adapters/ssh/client.js";
import { checkKeyFile } from "../../adapters/ssh/keyfile.js";
import { loadInventoryFile } from "../../inventory/load.js";
import { addBundleOptions, addFactSourceOptions, addPlanChoiceOptions, type BundleFlags, type FactSourceFlags, type PlanChoiceFlags } from "../options.js";
import { sshSetup } from "../facts.js";
import { runPipeline } from "./preflight.js";
import { preflightFailedError } from "./plan.js";
import { usageError } from "../runtime.js";
import type { Register } from "../main.js";

interface InstallFlags extends FactSourceFlags, BundleFlags, PlanChoiceFlags {
  dryRun: boolean;
  retryFailed: boolean;
  fromStep?: string;
  stateDir?: string;
}

/** Adds `omstack install` to the program. */
export const registerInstall: Register = (program: Command, run) => {
  const cmd = program
    .command("install")
    .description("install on the inventory's hosts in resumable, journaled steps (run it again to resume)")
    .argument("[host...]", "only these inventory hosts (default: all)");
  addFactSourceOptions(cmd, { factsFile: false });
  addPlanChoiceOptions(addBundleOptions(cmd))
    .option("--dry-run", "print, per host, every change the install would make; change nothing", false)
    .option("--retry-failed", "after a failed run: try the failed steps again", false)
    .option("--from-step <id>", "re-apply this step and every later one, even where the journal says done")
    .option("--state-dir <dir>", "journal, logs and locks (default /var/lib/omstack for root; OMSTACK_STATE_DIR wins)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  omstack install -i omstack.yaml --dry-run",
        "  omstack install -i omstack.yaml --accept-new-host-keys",
        "  omstack install -i omstack.yaml --retry-failed        # after fixing what a failed step reported",
        "",
        "Exit codes: 0 installed (or nothing to do), 1 preflight or a step failed (re-run to resume), 2 bad usage or input.",
      ].join("\n"),
    )
    .action(async (names: string[], flags: InstallFlags) =>
      run("install", async (rt) => {
        if (!flags.inventory) throw usageError("omstack install needs an inventory of the hosts to install on", "pass -i omstack.yaml (see docs/inventory.md)");
        if (flags.fromCapture) throw usageError("--from-capture plans from saved captures; an install must probe the hosts it changes", "drop --from-capture");
        const { outcomes, plan, gathered } = await runPipeline(rt, names, flags);
        const unreachable = gathered.facts.filter((f) => !f.reachable);
        if (outcomes.some((o) => o.status === "fail")) throw preflightFailedError(outcomes);
        if (unreachable.length > 0) throw new OmstackError("E_PROBE_FAILED", `cannot install: ${unreachable.map((f) => f.host).join(", ")} could not be probed`, { remedy: "fix the connection problems reported above, then run omstack install again" });
        const inventory = await loadInventoryFile(flags.inventory, checkKeyFile);
        const specs = new Map(inventory.hosts.map((h) => [h.name, h]));
        const { sshOptions } = await sshSetup(flags);
        const connector = new SshConnector(sshOptions);
        const stateDir = flags.stateDir ?? defaultStateDir();
        rt.log.info({ stateDir, dryRun: flags.dryRun, hosts: plan.nodes.map((n) => n.host) }, "install starting");
        const result = await execute({
          steps: hostPreparationSteps(),
          plan,
          hosts: sessionHosts((host) => {
            const spec = specs.get(host);
            if (!spec) throw new OmstackError("E_HOST_UNKNOWN", `${host} is in the plan but not in ${flags.inventory}`, { remedy: "plan and install from the same inventory" });
            return connector.open(spec);
          }),
          stateDir,
          dryRun: flags.dryRun,
          retryFailed: flags.retryFailed,
          fromStep: flags.fromStep,
          onEvent: (e) => {
            rt.log.info({ event: e }, "executor event");
            for (const line of formatEvent(e)) rt.note(line);
          },
        });
        if (result.error) throw result.error;
        rt.print({ runId: result.runId, status: result.status, outcomes: result.outcomes, logDir: result.logDir }, () =>
          flags.dryRun ? "dry-run: nothing was changed.\n" : `install run ${result.runId} ${result.status}; journal in ${stateDir}/install.db${result.logDir ? `, logs in ${result.logDir}` : ""}\n`,
        );
        return result.status === "succeeded" ? 0 : 1;
      }),
    );
};
