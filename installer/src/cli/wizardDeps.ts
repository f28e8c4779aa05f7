// The install wizard's deps wired to the real code: bundle.json, the journal, SSH probing, preflight and plan, saving
// omstack.yaml and the step engine. The wizard (tui/) stays free of side effects; this file is where they come in.
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { OmstackError, isOmstackError } from "../errors.js";
import { pipelineInputFor, saveInstallConfig, type InstallConfig, type InstallSecrets } from "../config/installConfig.js";
import { checkKeyFile } from "../adapters/ssh/keyfile.js";
import { KnownHostsFile } from "../adapters/ssh/knownHosts.js";
import { SshConnector, type Secrets } from "../adapters/ssh/client.js";
import { readBundleHead } from "../bundle/verify.js";
import { summarize } from "../bundle/inspect.js";
import { execute, type ExecuteResult } from "../executor/executor.js";
import { sessionHosts } from "../executor/contexts.js";
import type { ExecutorEvent } from "../executor/events.js";
import type { HostSpec } from "../inventory/types.js";
import { preflightAndPlan, type PipelineInput } from "../plan/pipeline.js";
import type { Plan } from "../plan/types.js";
import type { ServiceSpec } from "../preflight/services.js";
import type { HostFacts } from "../probe/facts.js";
import { probeHosts, type ProbeEvent } from "../probe/probeHosts.js";
import { Journal } from "../state/journal.js";
import { planHash } from "../executor/hash.js";
import { hostPreparationSteps } from "../steps/index.js";
import type { Step } from "../steps/types.js";
import { ADMIN_USER, adminConsoleUrl, stepsForInstall } from "./installSteps.js";
import type { WizardDeps } from "../tui/Wizard.js";
import type { InstallOutcome } from "../tui/screens/Install.js";
import type { BundleView, PreviousRun } from "../tui/screens/Welcome.js";

/** What the factory needs from the command line: paths, SSH timeouts, the bundle versions and services, dry-run. */
export interface WizardWiring {
  knownHostsPath: string;
  /** --accept-new-host-keys: trust first-seen keys without asking (the Probe screen's `a` does it per host). */
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  concurrency: number;
  commandTimeoutSec: number;
  scriptTimeoutMs: number;
  bundle: PipelineInput["bundle"];
  services: readonly ServiceSpec[];
  /** Where omstack.yaml is written (-c FILE, else ./omstack.yaml). */
  configPath: string;
  /** The state directory Welcome shows: its journal says whether a run can be resumed. */
  stateDir: string;
  dryRun: boolean;
  /** The full-detail log file shown on Done. */
  logPath: string;
  log: (obj: Record<string, unknown>, msg: string) => void;
  /** --trust keys for the bundle's signature (default: the trust folder). */
  trust: string[];
  /** Where the cluster-admin kubeconfig is saved (default STATE_DIR/kubeconfig). */
  kubeconfigPath: string | null;
  /** Flags of this command that omstack.yaml does not hold, repeated in Done's "repeat" command. */
  repeatFlags?: string[];
}

/** The deps plus what the command needs afterwards: the last execution's result and any run still finishing. */
export interface WiredWizard {
  deps: WizardDeps;
  lastResult: () => ExecuteResult | null;
  /** Resolves when no install is running (Ctrl-C stops starting new work; running work finishes first). */
  settled: () => Promise<void>;
}

/** The admin console's first user, as the install creates it. */
export const WIZARD_ADMIN_USER = ADMIN_USER;
export { adminConsoleUrl };

/** What Done shows for an install of these steps: the console only with the admin service, the kubeconfig only with its step. */
export function installOutcomeFor(plan: Plan, steps: readonly Pick<Step<Plan>, "id">[], o: { kubeconfigPath: string; logPath: string; runLogDir: string | null; shownOnce: string[]; repeatFlags?: string[] }): InstallOutcome {
  const has = (id: string) => steps.some((s) => s.id === id);
  return {
    consoleUrl: has("admin.service") ? adminConsoleUrl(plan) : null,
    kubeconfigPath: has("k8s.kubeconfig") ? o.kubeconfigPath : null,
    adminUser: has("admin.service") ? WIZARD_ADMIN_USER : null,
    logPath: o.logPath,
    runLogDir: o.runLogDir,
    shownOnce: o.shownOnce,
    repeatFlags: o.repeatFlags ?? [],
  };
}

/** bundle.json of a bundle file as Welcome shows it; a bad file becomes an error view with its fix. */
export async function bundleView(path: string): Promise<BundleView> {
  try {
    const { manifest, signature } = await readBundleHead(path);
    const s = summarize(manifest, signature);
    return { status: "ok", path, name: s.name, version: s.version, arch: s.arch, components: s.components, images: s.totals.images, charts: s.totals.charts, packages: s.totals.packages, bytes: s.totals.bytes };
  } catch (e) {
    if (isOmstackError(e)) return { status: "error", path, message: e.message, remedy: e.remedy ?? null };
    return { status: "error", path, message: (e as Error).message, remedy: "pass the bundle file (.tar) made by omstack bundle build, with --bundle or cluster.bundle" };
  }
}

/** The newest run in the journal when it did not succeed (offered for resuming), else null; reads only. */
export function previousRunOf(stateDir: string, stepsTotal: number): PreviousRun | null {
  const journal = Journal.openIfExists(stateDir);
  if (!journal) return null;
  try {
    const last = journal.runs().filter((r) => r.mode === "apply").at(-1);
    if (!last || last.status === "succeeded") return null;
    const rows = journal.steps(last.id);
    const stepIds = [...new Set(rows.map((r) => r.stepId))];
    const stepsDone = stepIds.filter((id) => rows.filter((r) => r.stepId === id).every((r) => r.status === "verified" || r.status === "skipped")).length;
    // the run records the steps it was started with; older runs did not, so the caller's count stands in
    const recorded = Array.isArray(last.options.steps) ? last.options.steps.length : null;
    return { runId: last.id, startedAt: last.startedAt.replace("T", " ").slice(0, 16), status: last.status, stepsDone, stepsTotal: recorded ?? stepsTotal };
  } finally {
    journal.close();
  }
}

/** The wizard's typed secrets as the SSH adapter asks for them; a secret not typed is an error with a fix, never a prompt. */
export function wizardSecrets(s: InstallSecrets): Secrets {
  const missing = (what: string, remedy: string) => Promise.reject(new OmstackError("E_SSH_AUTH", `${what} is needed but was not given in the wizard`, { remedy }));
  return {
    sshPassword: (user) => (s.sshPassword !== null ? Promise.resolve(s.sshPassword) : missing(`the SSH password of ${user}`, "go back to Hosts and choose password login")),
    keyPassphrase: (path) => missing(`the passphrase of ${path}`, "add the key to ssh-agent (ssh-add) and choose ssh-agent login, or use a key without a passphrase"),
    sudoPassword: (host) => (s.sudoPassword !== null ? Promise.resolve(s.sudoPassword) : missing(`the sudo password for ${host}`, "go back to Hosts and choose sudo with a password")),
  };
}

/** Builds the deps for `omstack install` on a terminal. */
export async function wireWizard(w: WizardWiring): Promise<WiredWizard> {
  const knownHosts = await KnownHostsFile.open(w.knownHostsPath);
  const connectorFor = (secrets: InstallSecrets, acceptNew: boolean) => {
    const policy = { knownHosts, acceptNew: acceptNew || w.acceptNewHostKeys, accepted: [] as { address: string; port: number; keyBlob: Buffer; comment: string }[] };
    return { policy, connector: new SshConnector({ connectTimeoutMs: w.connectTimeoutMs, keepaliveMs: 5000, secrets: wizardSecrets(secrets), hostKeys: policy }) };
  };
  const probeOpts = { concurrency: w.concurrency, commandTimeoutSec: w.commandTimeoutSec, scriptTimeoutMs: w.scriptTimeoutMs, random: randomBytes, now: Date.now };
  const evaluate = (config: InstallConfig, facts: readonly HostFacts[]) => preflightAndPlan(pipelineInputFor(config, facts, w.bundle, w.services));

  const probe = async (hosts: HostSpec[], secrets: InstallSecrets, opts: { acceptNewHostKeys: boolean }, onEvent: (e: ProbeEvent) => void): Promise<HostFacts[]> => {
    const { policy, connector } = connectorFor(secrets, opts.acceptNewHostKeys);
    w.log({ hosts: hosts.map((h) => h.name), acceptNew: policy.acceptNew }, "wizard probe");
    const results = await probeHosts(hosts, connector, { ...probeOpts, onEvent });
    if (policy.accepted.length > 0) await knownHosts.add(policy.accepted);
    return results.map((r) => r.facts);
  };

  let last: ExecuteResult | null = null;
  let running: Promise<unknown> = Promise.resolve();

  const runInstall = async (config: InstallConfig, given: Plan | null, secrets: InstallSecrets, retry: boolean, signal: AbortSignal, onEvent: (e: ExecutorEvent) => void) => {
    let plan = given;
    if (plan === null) {
      // resuming a run from Welcome: the hosts are the truth, so probe and plan again from the loaded config
      const facts = await probe(config.hosts, secrets, { acceptNewHostKeys: false }, () => undefined);
      const down = facts.filter((f) => !f.reachable).map((f) => f.host);
      if (down.length > 0) throw new OmstackError("E_PROBE_FAILED", `cannot resume: ${down.join(", ")} could not be probed`, { remedy: "fix the connection, or start a new install to change the hosts" });
      const evaluated = evaluate(config, facts);
      const failing = evaluated.outcomes.filter((o) => o.status === "fail");
      if (failing.length > 0) throw new OmstackError("E_PREFLIGHT_FAILED", `cannot resume: ${failing.length} preflight check(s) fail (${[...new Set(failing.map((o) => o.checkId))].join(", ")})`, { remedy: "start a new install to review the checks" });
      plan = evaluated.plan;
    }
    const specs = new Map(config.hosts.map((h) => [h.name, h]));
    const { connector } = connectorFor(secrets, false);
    const stateDir = config.stateDir;
    w.log({ stateDir, dryRun: w.dryRun, retry, hosts: plan.nodes.map((n) => n.host) }, "wizard install starting");
    const kubeconfigPath = w.kubeconfigPath ?? join(stateDir, "kubeconfig");
    // Shown once on Done, never logged: only a run resumed from Welcome (no Plan review) generates a password here.
    const shownOnce: string[] = [];
    const steps = await stepsForInstall({
      bundlePath: config.bundlePath,
      trust: w.trust,
      stateDir,
      dryRun: w.dryRun,
      kubeconfigPath,
      note: (line) => w.log({ note: line }, "install"),
      // The wizard generated (and showed) or asked the password on Plan review.
      adminPassword: { policy: config.adminPassword, value: secrets.adminPassword },
      showOnce: (line) => void shownOnce.push(line),
    });
    last = await execute({
      steps,
      plan,
      hosts: sessionHosts((host) => {
        const spec = specs.get(host);
        if (!spec) throw new OmstackError("E_HOST_UNKNOWN", `${host} is in the plan but not among the wizard's hosts`, { remedy: "go back to Hosts and add it, or start a new install" });
        return connector.open(spec);
      }),
      stateDir,
      dryRun: w.dryRun,
      retryFailed: retry || given === null,
      signal,
      planHash: planHash(plan),
      recordOptions: { wizard: true, dryRun: w.dryRun, config: w.configPath, steps: steps.map((s) => s.id) },
      onEvent: (e) => {
        w.log({ event: e }, "executor event");
        onEvent(e);
      },
    });
    return { result: last, outcome: installOutcomeFor(plan, steps, { kubeconfigPath, logPath: w.logPath, runLogDir: last.logDir, shownOnce, repeatFlags: w.repeatFlags ?? [] }) };
  };

  const deps: WizardDeps = {
    loadBundle: bundleView,
    previousRun: previousRunOf(w.stateDir, hostPreparationSteps().length),
    checkKey: checkKeyFile,
    agentSocket: process.env.SSH_AUTH_SOCK || null,
    probe: async (hosts, secrets, opts, onEvent) => void (await probe(hosts, secrets, opts, onEvent)),
    evaluate,
    generatePassword: () => randomBytes(18).toString("base64url"),
    adminUser: WIZARD_ADMIN_USER,
    dryRun: w.dryRun,
    saveConfig: async (config) => {
      const path = resolve(w.configPath);
      await saveInstallConfig(path, config);
      return path;
    },
    install: async (req, onEvent) => {
      const p = runInstall(req.config, req.plan, req.secrets, req.retry, req.signal, onEvent);
      running = p.catch(() => undefined);
      const { result, outcome } = await p;
      if (result.error && result.status !== "failed") throw result.error;
      return outcome;
    },
  };
  return { deps, lastResult: () => last, settled: () => running.then(() => undefined) };
}

/** Parses a positive whole-number flag for the wizard's SSH settings (same bounds as the non-interactive path). */
export function wholeNumber(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new OmstackError("E_USAGE", `${flag} must be a whole number from 1 to ${max}, got "${value}"`, { remedy: `pass e.g. ${flag} 10` });
  return n;
}
