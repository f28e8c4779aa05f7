// The omstack entry point: the only place that calls process.exit.
import { Command, CommanderError, Option } from "commander";
import { createRuntime, reportError, type GlobalOptions, type Runtime } from "./runtime.js";

/** Signature every command module exports: add itself to the program. */
export type Register = (program: Command, run: RunAction) => void;
/** Wraps a command's body: builds the runtime, maps errors to exit codes. */
export type RunAction = (name: string, body: (rt: Runtime) => Promise<number>) => Promise<void>;

/**
 * Every command, loaded on demand: a run imports only the module of the command it runs, so `omstack probe` does not
 * pay for the admin service's web stack at start-up (that start-up is part of every probe's wall time).
 * `names` lists the top-level words a module registers.
 */
const COMMANDS: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ["probe"], load: async () => (await import("./commands/probe.js")).registerProbe },
  { names: ["preflight"], load: async () => (await import("./commands/preflight.js")).registerPreflight },
  { names: ["plan"], load: async () => (await import("./commands/plan.js")).registerPlan },
  { names: ["install"], load: async () => (await import("./commands/install.js")).registerInstall },
  { names: ["bundle", "images"], load: async () => (await import("./commands/bundle.js")).registerBundle },
  { names: ["admin"], load: async () => (await import("./commands/admin.js")).registerAdmin },
];

/** The command word in argv (skipping global options and their values), or null for help/version/unknown. */
export function commandWord(argv: string[]): string | null {
  const withValue = new Set(["-o", "--output", "--log-file"]);
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return a;
  }
  return null;
}

async function loadRegisters(argv: string[]): Promise<Register[]> {
  const word = commandWord(argv);
  const one = COMMANDS.find((c) => word !== null && c.names.includes(word));
  return Promise.all((one ? [one] : COMMANDS).map((c) => c.load()));
}

function buildProgram(registers: Register[]): { program: Command; exit: { code: number } } {
  const exit = { code: 0 };
  const program = new Command("omstack")
    .description("OMStack Appliance: install and run an AI and big-data platform on bare-metal Linux hosts, offline")
    .version(process.env.npm_package_version ?? "0.1.0")
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json", "yaml"]).default("table"))
    .option("--debug", "print stack traces and extra detail", false)
    .option("--log-file <path>", "write the full-detail log here (default: a new file under /var/log/omstack)")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const run: RunAction = async (name, body) => {
    const opts = program.opts<GlobalOptions>();
    let rt: Runtime | null = null;
    try {
      rt = createRuntime(name, opts);
      exit.code = await body(rt);
    } catch (e) {
      exit.code = reportError(e, rt);
    } finally {
      rt?.log.flush?.();
    }
  };

  for (const register of registers) register(program, run);
  return { program, exit };
}

async function main(argv: string[]): Promise<number> {
  const { program, exit } = buildProgram(await loadRegisters(argv));
  try {
    await program.parseAsync(argv);
    return exit.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2;
    }
    return reportError(e, null);
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (e) => process.exit(reportError(e, null)),
);
