// `omstack install`: probe → preflight → plan → the resumable step engine over SSH, journaled in the state directory.
// On a terminal (no --yes) the wizard asks every answer and saves omstack.yaml; `-c omstack.yaml --yes` repeats it
// without questions. Both build one InstallConfig and plan through pipelineInputFor, so they plan alike (docs/wizard.md).
// Today it lays down the host-preparation steps; the Kubernetes and service steps join the same list as they land.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hostname } from "node:os";
import type { Command } from "commander";
import { OmstackError } from "../../errors.js";
import { defaultKnownHostsPath, defaultStateDir } from "../../config/paths.js";
import { DEFAULT_CLUSTER_NETWORK, loadInstallConfig, pipelineInputFor, type InstallConfig } from "../../config/installConfig.js";
import { execute } from "../../executor/executor.js";
import { planHash } from "../../executor/hash.js";
import { sessionHosts } from "../../executor/contexts.js";
import { startProgress, wantsLiveProgress } from "../progress.js";
import { ADMIN_USER, adminConsoleUrl, hostsWithKubernetes, stepsForInstall } from "../installSteps.js";
import { SshConnector } from "../../adapters/ssh/client.js";
import { checkKeyFile } from "../../adapters/ssh/keyfile.js";
import { loadInventoryFile } from "../../inventory/load.js";
import { preflightAndPlan } from "../../plan/pipeline.js";
import { loadServiceDir } from "../../preflight/services.fs.js";
import { addBundleOptions, addFactSourceOptions, addPlanChoiceOptions, defaultServicesDir, planChoices, resolveBundle, validateIgnore, type BundleFlags, type FactSourceFlags, type PlanChoiceFlags } from "../options.js";
import { probeInventory, probeLocal, sshSetup } from "../facts.js";
import { LocalSession } from "../../adapters/local/localSession.js";
import { preflightFailedError } from "./plan.js";
import { usageError, type Runtime } from "../runtime.js";
import type { Register } from "../main.js";

interface InstallFlags extends FactSourceFlags, BundleFlags, PlanChoiceFlags {
  config?: string;
  yes: boolean;
  ascii: boolean;
  /** false with --no-tui: plain lines even on a terminal. */
  tui: boolean;
  dryRun: boolean;
  retryFailed: boolean;
  fromStep?: string;
  stateDir?: string;
  trust: string[];
  kubeconfig?: string;
}

/** The answers before any question: -c omstack.yaml, or a plain -i inventory with defaults; flags refine either. Null without a file. */
async function installConfigFrom(flags: InstallFlags, names: string[]): Promise<InstallConfig | null> {
  const stateDir = flags.stateDir ?? defaultStateDir();
  let config: InstallConfig;
  const file = flags.config ?? flags.inventory;
  if (flags.config) {
    config = await loadInstallConfig(flags.config, checkKeyFile, { stateDir });
  } else if (flags.inventory) {
    const inv = await loadInventoryFile(flags.inventory, checkKeyFile);
    config = { clusterName: "omstack", hosts: inv.hosts, controlPlanes: null, virtualIP: null, bypassedChecks: [], adminPassword: "generate", bundlePath: null, stateDir, network: DEFAULT_CLUSTER_NETWORK };
  } else return null;
  const unknown = names.filter((n) => !config.hosts.some((h) => h.name === n));
  if (unknown.length > 0) throw new OmstackError("E_HOST_UNKNOWN", `not in ${file}: ${unknown.join(", ")}`, { remedy: `hosts in ${file}: ${config.hosts.map((h) => h.name).join(", ")}` });
  const choices = planChoices(flags);
  return {
    ...config,
    hosts: names.length > 0 ? config.hosts.filter((h) => names.includes(h.name)) : config.hosts,
    controlPlanes: choices.controlPlanes ?? config.controlPlanes,
    virtualIP: choices.virtualIP ?? config.virtualIP,
    bypassedChecks: [...new Set([...config.bypassedChecks, ...flags.ignore])].sort(),
    bundlePath: flags.bundle ?? config.bundlePath,
    stateDir: flags.stateDir ?? config.stateDir,
  };
}

/** Bundle versions (flags, then the config's bundle) and the service specs: what both paths plan against. */
async function planningInputs(flags: InstallFlags, config: InstallConfig) {
  const bundle = await resolveBundle({ ...flags, bundle: config.bundlePath ?? undefined });
  validateIgnore(config.bypassedChecks, bundle.versions);
  return { bundle, services: loadServiceDir(flags.services ?? defaultServicesDir()) };
}

/** `--yes`, no terminal, or machine output: the config as given, refused while a check fails. */
async function installWithoutQuestions(rt: Runtime, names: string[], flags: InstallFlags): Promise<number> {
  const loaded = await installConfigFrom(flags, names);
  // No inventory: this machine alone, an all-in-one node reached without SSH (the way single-node appliances install).
  const local = loaded === null;
  if (local && names.length > 0) throw usageError("host names need an inventory", "pass -c omstack.yaml or -i inventory.yaml with those hosts, or no names to install on this machine");
  const config: InstallConfig = loaded ?? {
    clusterName: "omstack",
    hosts: [],
    controlPlanes: null,
    virtualIP: planChoices(flags).virtualIP ?? null,
    bypassedChecks: [...new Set(flags.ignore)].sort(),
    adminPassword: "generate",
    bundlePath: flags.bundle ?? null,
    stateDir: flags.stateDir ?? defaultStateDir(),
    network: DEFAULT_CLUSTER_NETWORK,
  };
  if (local) rt.note(`no inventory given: installing on this machine alone (${hostname()}), without SSH; pass -c omstack.yaml for a cluster of hosts`);
  const { bundle, services } = await planningInputs(flags, config);
  const results = local ? await probeLocal(rt, flags) : await probeInventory(rt, flags, [], { file: flags.config ?? flags.inventory ?? null, hosts: config.hosts });
  const facts = results.map((r) => r.facts);
  const resumingHosts = hostsWithKubernetes(config.stateDir, config.hosts.map((h) => h.name));
  if (resumingHosts.length > 0) rt.note(`resuming: the journal in ${config.stateDir} shows Kubernetes started on ${resumingHosts.join(", ")}; its ports there are the cluster's own`);
  const { outcomes, plan } = preflightAndPlan({ ...pipelineInputFor(config, facts, bundle.versions, services), resumingHosts });
  const unreachable = facts.filter((f) => !f.reachable);
  // A dry run shows everything, failing checks included: the operator sees what to fix and what would follow.
  const refused = outcomes.some((o) => o.status === "fail") ? preflightFailedError(outcomes) : null;
  if (refused && !flags.dryRun) throw refused;
  if (refused) {
    rt.note(`dry-run: preflight FAILS — a real install stops here: ${refused.message.replace(/^no plan was made: /, "")}`);
    for (const e of refused.errors as OmstackError[]) rt.note(`  ${e.host ? `${e.host}: ` : ""}${e.message}${e.remedy ? `\n    fix: ${e.remedy}` : ""}`);
  }
  if (unreachable.length > 0) throw new OmstackError("E_PROBE_FAILED", `cannot install: ${unreachable.map((f) => f.host).join(", ")} could not be probed`, { remedy: "fix the connection problems reported above, then run omstack install again" });
  const specs = new Map(config.hosts.map((h) => [h.name, h]));
  const connector = local ? null : new SshConnector((await sshSetup(flags)).sshOptions);
  const stateDir = config.stateDir;
  const kubeconfigPath = flags.kubeconfig ?? join(stateDir, "kubeconfig");
  const steps = await stepsForInstall({
    bundlePath: config.bundlePath,
    trust: flags.trust,
    stateDir,
    dryRun: flags.dryRun,
    kubeconfigPath,
    note: (l) => rt.note(l),
    adminPassword: { policy: config.adminPassword, value: null },
    // A generated admin password goes to the operator's terminal once, never to the log file.
    showOnce: (l) => void process.stderr.write(`${l}\n`),
  });
  rt.log.info({ stateDir, dryRun: flags.dryRun, hosts: plan.nodes.map((n) => n.host), cluster: config.clusterName, steps: steps.map((s) => s.id) }, "install starting");
  // a live view on a terminal, plain lines otherwise (cli/progress.ts); Ctrl-C aborts: running steps finish, resumable
  const progress = await startProgress({ live: wantsLiveProgress({ stdoutIsTTY: Boolean(process.stdout.isTTY), output: rt.output, tui: flags.tui, env: process.env }), ascii: flags.ascii, hosts: plan.nodes.map((n) => n.host), logPath: rt.logPath, note: (l) => rt.note(l) });
  const result = await execute({
    steps,
    plan,
    hosts: sessionHosts((host) => {
      if (connector === null) return Promise.resolve(new LocalSession());
      const spec = specs.get(host);
      if (!spec) throw new OmstackError("E_HOST_UNKNOWN", `${host} is in the plan but not in ${flags.config ?? flags.inventory}`, { remedy: "plan and install from the same inventory" });
      return connector.open(spec);
    }),
    stateDir,
    dryRun: flags.dryRun,
    retryFailed: flags.retryFailed,
    fromStep: flags.fromStep,
    signal: progress.signal,
    planHash: planHash(plan),
    recordOptions: { config: flags.config ?? flags.inventory ?? null, dryRun: flags.dryRun, retryFailed: flags.retryFailed, fromStep: flags.fromStep ?? null, steps: steps.map((s) => s.id) },
    onEvent: (e) => {
      rt.log.info({ event: e }, "executor event");
      progress.onEvent(e);
    },
  }).finally(() => progress.close());
  if (result.error) throw result.error;
  const withCluster = steps.some((s) => s.id === "k8s.kubeconfig");
  rt.print({ runId: result.runId, status: result.status, outcomes: result.outcomes, logDir: result.logDir, kubeconfig: withCluster && !flags.dryRun ? kubeconfigPath : null }, () =>
    flags.dryRun
      ? `dry-run: nothing was changed.${refused ? ` A real install would refuse: ${outcomes.filter((o) => o.status === "fail").length} preflight check(s) fail (listed above with their fixes).` : ""}\n`
      : `install run ${result.runId} ${result.status}; journal in ${stateDir}/install.db${result.logDir ? `, logs in ${result.logDir}` : ""}\n` +
        (withCluster && result.status === "succeeded" ? `kubeconfig (cluster admin, 0600): ${kubeconfigPath}\n  export KUBECONFIG=${kubeconfigPath}; kubectl get nodes\n` : "") +
        (steps.some((s) => s.id === "admin.service") && result.status === "succeeded" ? `admin console: ${adminConsoleUrl(plan)} (user ${ADMIN_USER})\n` : ""),
  );
  return result.status === "succeeded" ? 0 : 1;
}

/** On a terminal: the wizard, starting from -c/-i when given (a missing -c file is where the answers will be saved). */
async function installWithWizard(rt: Runtime, names: string[], flags: InstallFlags): Promise<number> {
  const configPath = flags.config ?? "omstack.yaml";
  const fresh = flags.config !== undefined && !existsSync(flags.config);
  const initial: InstallConfig = (fresh ? null : await installConfigFrom(flags, names)) ?? {
    clusterName: "omstack",
    hosts: [],
    controlPlanes: planChoices(flags).controlPlanes ?? null,
    virtualIP: planChoices(flags).virtualIP,
    bypassedChecks: [...new Set(flags.ignore)].sort(),
    adminPassword: "generate",
    network: DEFAULT_CLUSTER_NETWORK,
    bundlePath: flags.bundle ?? null,
    stateDir: flags.stateDir ?? defaultStateDir(),
  };
  const { bundle, services } = await planningInputs(flags, initial);
  const { wireWizard, wholeNumber } = await import("../wizardDeps.js");
  const wired = await wireWizard({
    knownHostsPath: flags.knownHosts ?? defaultKnownHostsPath(),
    acceptNewHostKeys: flags.acceptNewHostKeys,
    connectTimeoutMs: wholeNumber(flags.connectTimeout, "--connect-timeout", 600) * 1000,
    concurrency: wholeNumber(flags.concurrency, "--concurrency", 1000),
    commandTimeoutSec: wholeNumber(flags.commandTimeout, "--command-timeout", 3600),
    scriptTimeoutMs: wholeNumber(flags.timeout, "--timeout", 36000) * 1000,
    bundle: bundle.versions,
    services,
    configPath,
    stateDir: initial.stateDir,
    dryRun: flags.dryRun,
    logPath: rt.logPath,
    log: (obj, msg) => rt.log.info(obj, msg),
    trust: flags.trust,
    kubeconfigPath: flags.kubeconfig ?? null,
    repeatFlags: [
      ...flags.trust.flatMap((t) => ["--trust", t]),
      ...(flags.services ? ["--services", flags.services] : []),
      ...(flags.knownHosts ? ["--known-hosts", flags.knownHosts] : []),
      ...(flags.kubeconfig ? ["--kubeconfig", flags.kubeconfig] : []),
    ],
  });
  // The wizard only runs on a real terminal (checked by the caller). ink decides once, at import, to draw nothing but
  // the last frame when a CI variable is set; an operator's shell (or a CI job driving a real pty) may carry one.
  process.env.CI = "false";
  const [{ render }, { createElement }, { Wizard }, { detectTermCaps }] = await Promise.all([import("ink"), import("react"), import("../../tui/Wizard.js"), import("../../tui/terminal.js")]);
  const caps = detectTermCaps(process.env, { ascii: flags.ascii }, true);
  rt.log.info({ configPath, hosts: initial.hosts.map((h) => h.name), caps, dryRun: flags.dryRun }, "wizard starting");
  let app: ReturnType<typeof render> | null = null;
  const result = await new Promise<import("../../tui/Wizard.js").WizardResult>((done) => {
    app = render(createElement(Wizard, { deps: wired.deps, initial, caps, onExit: done }), { exitOnCtrlC: false, patchConsole: false });
  });
  app!.unmount();
  await app!.waitUntilExit();
  process.stdout.write("\n"); // ink leaves the cursor at the end of its last frame
  await wired.settled();
  rt.log.info({ result: result.kind, screen: result.kind === "cancelled" ? result.screen : "done" }, "wizard ended");
  if (result.kind === "cancelled") {
    rt.note(
      result.installStarted
        ? `stopped during the install; the journal in ${result.config.stateDir} keeps it resumable: run omstack install again (the wizard offers to resume)`
        : `cancelled at the ${result.screen} screen; nothing was changed`,
    );
    return 1;
  }
  const last = wired.lastResult();
  rt.print({ runId: last?.runId ?? null, status: last?.status ?? null, config: configPath, logDir: last?.logDir ?? null }, () =>
    flags.dryRun ? `dry-run: nothing was changed. Answers saved to ${configPath}.\n` : `install run ${last?.runId} ${last?.status}; answers in ${configPath}; log ${rt.logPath}\n`,
  );
  return last?.status === "succeeded" ? 0 : 1;
}

/** Adds `omstack install` to the program. */
export const registerInstall: Register = (program: Command, run) => {
  const cmd = program
    .command("install")
    .description("install on the hosts in resumable, journaled steps; on a terminal without --yes a wizard asks the answers (run it again to resume)")
    .argument("[host...]", "only these hosts of the config (default: all)")
    .option("-c, --config <file>", "install config (omstack.yaml with hosts: and cluster:, as the wizard writes it)")
    .option("--yes", "no questions: install what -c (or -i) says, even on a terminal", false)
    .option("--ascii", "wizard and progress view: draw with ASCII only (serial consoles)", false)
    .option("--no-tui", "--yes on a terminal: one plain line per event instead of the live progress view");
  addFactSourceOptions(cmd, { factsFile: false });
  addPlanChoiceOptions(addBundleOptions(cmd))
    .option("--dry-run", "print, per host, every change the install would make; change nothing", false)
    .option("--retry-failed", "after a failed run: try the failed steps again", false)
    .option("--from-step <id>", "re-apply this step and every later one, even where the journal says done")
    .option("--state-dir <dir>", "journal, logs and locks (default /var/lib/omstack for root; OMSTACK_STATE_DIR wins)")
    .option("--trust <pubkey>", "bundle signing key to trust (repeatable); default: *.pub in $OMSTACK_TRUST_DIR or /etc/omstack/trusted-keys", (v: string, p: string[]) => [...p, v], [] as string[])
    .option("--kubeconfig <file>", "where to save the cluster-admin kubeconfig (0600; default STATE_DIR/kubeconfig)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  omstack install                                      # on a terminal: the wizard (saves omstack.yaml)",
        "  omstack install -c omstack.yaml --yes                # repeat the wizard's install without questions",
        "  omstack install -c omstack.yaml --yes --dry-run",
        "  omstack install -i inventory.yaml --accept-new-host-keys --yes",
        "  omstack install -c omstack.yaml --yes --retry-failed # after fixing what a failed step reported",
        "",
        "Exit codes: 0 installed (or nothing to do), 1 preflight or a step failed, or the wizard was left (re-run to resume), 2 bad usage or input.",
      ].join("\n"),
    )
    .action(async (names: string[], flags: InstallFlags) =>
      run("install", async (rt) => {
        if (flags.fromCapture) throw usageError("--from-capture plans from saved captures; an install must probe the hosts it changes", "drop --from-capture");
        if (flags.config && flags.inventory) throw usageError("-c and -i both name the hosts; pass one", "use -c omstack.yaml (the wizard's file) or -i for a plain inventory");
        const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !flags.yes && rt.output === "table";
        if (interactive && flags.passwordStdin) throw usageError("--password-stdin reads standard input, which the wizard needs for the keyboard", "add --yes to install without questions, or drop --password-stdin (the wizard asks the password)");
        return interactive ? installWithWizard(rt, names, flags) : installWithoutQuestions(rt, names, flags);
      }),
    );
};
