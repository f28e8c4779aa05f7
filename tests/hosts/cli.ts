// Command line for the test-host harness, for scripts that are not vitest (the probe benchmark, manual runs):
//   npx tsx tests/hosts/cli.ts start --count 10 --profile h100-ib [--host NAME[:PROFILE[:FAULT]]]... [--subnet N]
//        [--run-dir DIR] [--inventory FILE] [--known-hosts FILE]      → prints the lab as JSON; hosts keep running
//   npx tsx tests/hosts/cli.ts stop --prefix omlN                     → stops a lab started by `start`
//   npx tsx tests/hosts/cli.ts list                                   → labs recorded in /run/omstack-lab

import { readdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultRunDir, LabError, openTestLab, startTestHosts, stopStale } from "./lab.js";
import { isLive, LOCK_DIR, readState } from "./lab-state.js";
import type { TestHostFault, TestHostSpec } from "./types.js";

const USAGE = `usage:
  cli.ts start [--count N] [--profile NAME] [--name-prefix node-] [--host NAME[:PROFILE[:FAULT]]]...
               [--subnet N] [--run-dir DIR] [--inventory FILE] [--known-hosts FILE]
  cli.ts stop --prefix omlN
  cli.ts list`;

/** Parses "name[:profile[:fault]]" host arguments. */
function parseHostArg(arg: string): TestHostSpec {
  const [name, profile, fault, ...rest] = arg.split(":");
  if (name === undefined || name === "" || rest.length > 0) {
    throw new LabError(`--host ${JSON.stringify(arg)}: expected NAME[:PROFILE[:FAULT]], e.g. gpu-01:h100-ib or gpu-02::hang`);
  }
  const spec: TestHostSpec = { name };
  if (profile !== undefined && profile !== "") spec.profile = profile;
  if (fault !== undefined && fault !== "") spec.fault = fault as TestHostFault;
  return spec;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      count: { type: "string" },
      profile: { type: "string" },
      "name-prefix": { type: "string" },
      host: { type: "string", multiple: true },
      subnet: { type: "string" },
      "run-dir": { type: "string" },
      inventory: { type: "string" },
      "known-hosts": { type: "string" },
      prefix: { type: "string" },
    },
    strict: true,
  });
  if (command === "start") {
    const count = values.count === undefined ? 0 : Number(values.count);
    if (!Number.isInteger(count) || count < 0) throw new LabError(`--count must be a whole number; found ${values.count}`);
    const specs: TestHostSpec[] = [];
    const namePrefix = values["name-prefix"] ?? "node-";
    for (let i = 0; i < count; i++) {
      const spec: TestHostSpec = { name: `${namePrefix}${String(i + 1).padStart(2, "0")}` };
      if (values.profile !== undefined) spec.profile = values.profile;
      specs.push(spec);
    }
    for (const h of values.host ?? []) specs.push(parseHostArg(h));
    const lab = await startTestHosts(specs, {
      runDir: values["run-dir"] ?? defaultRunDir(),
      ...(values.subnet === undefined ? {} : { subnetIndex: Number(values.subnet) }),
      keepAfterExit: true,
    });
    if (values.inventory !== undefined) await lab.writeInventory(values.inventory);
    if (values["known-hosts"] !== undefined) writeFileSync(values["known-hosts"], lab.knownHostsText(), { mode: 0o600 });
    const { prefix, subnetIndex, labDir, startMs, identityFile, knownHostsFile, hosts } = lab;
    process.stdout.write(JSON.stringify({ prefix, subnetIndex, labDir, startMs, identityFile, knownHostsFile, hosts }, null, 2) + "\n");
    return 0;
  }
  if (command === "stop") {
    if (values.prefix === undefined) throw new LabError("stop needs --prefix omlN (see `cli.ts list`)");
    const st = readState(values.prefix);
    if (st !== null && st.ownerPid !== process.pid && !st.persistent && isLive(st)) {
      throw new LabError(`${values.prefix} belongs to a running test process (PID ${st.ownerPid}); it stops its own lab`);
    }
    if (st === null) await stopStale(values.prefix);
    else await openTestLab(values.prefix).stop();
    return 0;
  }
  if (command === "list") {
    let files: string[] = [];
    try {
      files = readdirSync(LOCK_DIR).filter((f) => f.endsWith(".json"));
    } catch {
      // no labs yet
    }
    for (const f of files) {
      const st = readState(f.slice(0, -".json".length));
      if (st === null) continue;
      process.stdout.write(`${st.prefix}\t${isLive(st) ? "running" : "stale"}\t${st.hosts.length} hosts\t${st.labDir ?? "-"}\n`);
    }
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1);
  },
);
