// `omstack probe`: read-only hardware and OS discovery of inventory hosts (over SSH) or of this machine.
import { Option, type Command } from "commander";
import type { ProbeResult } from "../../probe/probeHosts.js";
import type { HostFacts } from "../../probe/facts.js";
import { ansiStyle, plainStyle, renderProbe } from "../../probe/render.js";
import { hostsFromCaptureDir, probeInventory, probeLocal, type ProbeFlags } from "../facts.js";
import { addFactSourceOptions } from "../options.js";
import { usageError } from "../runtime.js";
import type { Register } from "../main.js";

/** Adds `omstack probe` to the program. */
export const registerProbe: Register = (program: Command, run) => {
  const cmd = program
    .command("probe")
    .description("discover hardware and OS facts of hosts over SSH (read-only), or of this machine when no inventory is given")
    .argument("[host...]", "only these inventory hosts (default: all)");
  addFactSourceOptions(cmd, { factsFile: false })
    .addOption(new Option("--no-tui", "plain line output even on a terminal (the probe never needs the full-screen view)").hideHelp())
    .addHelpText("after", "\nExamples:\n  omstack probe                                  # this machine\n  omstack probe -i omstack.yaml --accept-new-host-keys\n  omstack probe -i omstack.yaml gpu-01 --capture-dir ./captures\n  omstack probe --from-capture ./captures --output json\n\nExit codes: 0 all hosts probed, 1 a host could not be probed, 2 bad usage or input.")
    .action(async (names: string[], flags: ProbeFlags) =>
      run("probe", async (rt) => {
        if (flags.fromCapture && (flags.inventory || names.length > 0)) throw usageError("--from-capture parses saved files and cannot be combined with -i or host names", "drop -i/host names, or drop --from-capture to probe live");
        if (names.length > 0 && !flags.inventory) throw usageError(`host names (${names.join(", ")}) need an inventory`, "pass -i omstack.yaml (see docs/inventory.md)");
        let facts: HostFacts[];
        let results: ProbeResult[] = [];
        if (flags.fromCapture) facts = await hostsFromCaptureDir(flags.fromCapture);
        else {
          results = flags.inventory ? await probeInventory(rt, flags, names) : await probeLocal(rt, flags);
          facts = results.map((r) => r.facts);
        }
        rt.print({ hosts: facts }, () => renderProbe(facts, rt.color ? ansiStyle : plainStyle));
        const failed = results.filter((r) => r.error);
        for (const r of failed) rt.log.error({ host: r.host, code: r.error!.code, remedy: r.error!.remedy, details: r.error!.details }, r.error!.message);
        if (failed.length > 0) {
          rt.note(`\nfailed on ${failed.length} host(s):`);
          for (const r of failed) rt.note(`  ${r.error!.format().replace(/\n/g, "\n  ")}`);
          rt.note(`log: ${rt.logPath}`);
          return 1;
        }
        return 0;
      }),
    );
};
