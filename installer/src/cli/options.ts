// Options shared by the commands that need host facts (probe, preflight, plan) and by those that judge them against a
// bundle (preflight, plan), declared once so the flags, defaults and help text never drift apart; plus the wiring that
// turns those flags into facts, an inventory view and bundle versions.
import { fileURLToPath } from "node:url";
import { isIP } from "node:net";
import { Option, type Command } from "commander";
import { OmstackError } from "../errors.js";
import { loadInventoryFile } from "../inventory/load.js";
import type { Inventory } from "../inventory/types.js";
import type { HostFacts } from "../probe/facts.js";
import { evaluatePreflight } from "../preflight/preflight.js";
import { parseVersion } from "../preflight/expressions/index.js";
import type { PlanInventoryHost } from "../plan/types.js";
import { DEFAULT_BUNDLE_VERSIONS } from "../plan/defaults.js";
import type { PipelineInput } from "../plan/pipeline.js";
import { checkKeyFile } from "../adapters/ssh/keyfile.js";
import { readBundleHead } from "../bundle/verify.js";
import { allFiles } from "../bundle/manifest.js";
import { factsFromFile, hostsFromCaptureDir, probeInventory, probeLocal, type ProbeFlags } from "./facts.js";
import { usageError, type Runtime } from "./runtime.js";

/** Flags of commands that read facts from a file as well as by probing (preflight, plan). */
export interface FactSourceFlags extends ProbeFlags {
  facts?: string;
}

/** Adds the fact-source options (inventory, SSH, timeouts, captures; `--facts` when `factsFile`) to a command. */
export function addFactSourceOptions(cmd: Command, opts: { factsFile: boolean }): Command {
  cmd
    .option("-i, --inventory <file>", opts.factsFile ? "inventory file (omstack.yaml): hosts to probe, and their roles/labels/wipe overrides" : "inventory file (omstack.yaml); without it, this machine is probed")
    .option("--known-hosts <file>", "omstack's known_hosts file", undefined)
    .option("--accept-new-host-keys", "trust host keys seen for the first time (changed keys are always refused)", false)
    .option("--capture-dir <dir>", "also save each command's raw output in DIR/HOST/")
    .option("--from-capture <dir>", "parse a capture directory offline instead of probing (no SSH)");
  if (opts.factsFile) cmd.option("--facts <file>", "read facts saved by `omstack probe --output json` instead of probing (no SSH)");
  return cmd
    .option("--concurrency <n>", "hosts probed at once", "50")
    .option("--connect-timeout <sec>", "seconds to wait for each SSH handshake", "10")
    .option("--command-timeout <sec>", "seconds each probe command may run on a host", "15")
    .option("--timeout <sec>", "seconds the whole probe of one host may take", "120")
    .option("--password-stdin", "read the SSH/sudo password or key passphrase from standard input", false);
}

/** Flags naming the bundle to check against, the checks to bypass, and the service specs. */
export interface BundleFlags {
  bundle?: string;
  bundleCuda?: string;
  bundleKubernetes?: string;
  bundleContainerd?: string;
  ignore: string[];
  services?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Adds --bundle, --bundle-cuda/-kubernetes/-containerd, --ignore (repeatable) and --services. */
export function addBundleOptions(cmd: Command): Command {
  return cmd
    .option("--bundle <file>", "the bundle to install: its bundle.json gives the versions and extracted size (signature not checked here)")
    .option("--bundle-cuda <version>", `CUDA version the bundle is built for (default: from --bundle, else ${DEFAULT_BUNDLE_VERSIONS.cudaVersion})`)
    .option("--bundle-kubernetes <version>", `Kubernetes version (default: from --bundle, else ${DEFAULT_BUNDLE_VERSIONS.kubernetesVersion})`)
    .option("--bundle-containerd <version>", `containerd version (default: from --bundle, else ${DEFAULT_BUNDLE_VERSIONS.containerdVersion})`)
    .option("--ignore <check-id>", "bypass a failing check knowingly (repeatable); recorded in the plan, never shown as passed", collect, [] as string[])
    .option("--services <dir>", "folder of services/<name>/service.yaml (default: the one shipped with omstack)");
}

/** Planner choices the operator may fix instead of leaving them to the facts. */
export interface PlanChoiceFlags {
  controlPlanes?: string;
  virtualIp?: string;
}

/** Adds --control-planes and --virtual-ip (preflight takes them too, so it checks the roles the plan will assign). */
export function addPlanChoiceOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--control-planes <n>", "number of control-plane nodes (default: 3 with 5 or more hosts, else 1)").choices(["1", "3"]))
    .option("--virtual-ip <address>", "the intranet proxy's virtual IP (an unused address on the hosts' network)");
}

/** PlanInput.options from the flags; a bad address is a usage error. */
export function planChoices(flags: PlanChoiceFlags): { controlPlanes?: 1 | 3; virtualIP: string | null } {
  if (flags.virtualIp !== undefined && isIP(flags.virtualIp) === 0) throw usageError(`--virtual-ip must be an IPv4 or IPv6 address, got "${flags.virtualIp}"`, "pass an unused address on the hosts' network, e.g. --virtual-ip 10.0.0.250");
  const out: { controlPlanes?: 1 | 3; virtualIP: string | null } = { virtualIP: flags.virtualIp ?? null };
  if (flags.controlPlanes !== undefined) out.controlPlanes = flags.controlPlanes === "3" ? 3 : 1;
  return out;
}

/** The services folder shipped beside the installer (repo root in a checkout, installer/dist/.. when built). */
export function defaultServicesDir(): string {
  return fileURLToPath(new URL("../../../services", import.meta.url));
}

/** Bundle versions in effect and where each came from, for the report header. */
export interface ResolvedBundle {
  versions: PipelineInput["bundle"];
  source: string;
}

function versionFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!parseVersion(value)) throw usageError(`${flag} must be a version like 12.8 or 1.33.4, got "${value}"`, `pass e.g. ${flag} ${flag === "--bundle-cuda" ? "12.8" : "1.33.4"}`);
  return value;
}

/** Explicit flags win, then the bundle file's components, then DEFAULT_BUNDLE_VERSIONS. */
export async function resolveBundle(flags: BundleFlags): Promise<ResolvedBundle> {
  const cuda = versionFlag(flags.bundleCuda, "--bundle-cuda");
  const k8s = versionFlag(flags.bundleKubernetes, "--bundle-kubernetes");
  const containerd = versionFlag(flags.bundleContainerd, "--bundle-containerd");
  let fromFile: { version: string; components: Record<string, string>; extractedBytes: number } | null = null;
  if (flags.bundle) {
    const { manifest } = await readBundleHead(flags.bundle);
    fromFile = { version: manifest.version, components: manifest.components, extractedBytes: allFiles(manifest).reduce((n, f) => n + f.size, 0) };
  }
  const pick = (flag: string | undefined, component: string, fallback: string): [string, string] =>
    flag !== undefined ? [flag, "flag"] : fromFile?.components[component] !== undefined ? [fromFile.components[component]!, "bundle"] : [fallback, "default"];
  const [cudaVersion, cs] = pick(cuda, "cuda", DEFAULT_BUNDLE_VERSIONS.cudaVersion);
  const [kubernetesVersion, ks] = pick(k8s, "kubernetes", DEFAULT_BUNDLE_VERSIONS.kubernetesVersion);
  const [containerdVersion, ds] = pick(containerd, "containerd", DEFAULT_BUNDLE_VERSIONS.containerdVersion);
  const defaulted = [cs === "default" ? "CUDA" : null, ks === "default" ? "Kubernetes" : null, ds === "default" ? "containerd" : null].filter(Boolean);
  const source = fromFile
    ? `bundle ${fromFile.version} (${flags.bundle})${defaulted.length ? `; ${defaulted.join(", ")} not in its bundle.json, default used` : ""}`
    : defaulted.length === 3
      ? "default versions (pass --bundle FILE to check against a real bundle)"
      : "versions from --bundle-* flags" + (defaulted.length ? `; default ${defaulted.join(", ")}` : "");
  return {
    versions: { version: fromFile?.version ?? null, cudaVersion, kubernetesVersion, containerdVersion, extractedBytes: fromFile?.extractedBytes ?? null },
    source,
  };
}

/** Rejects unknown --ignore ids before any host is contacted (same error and suggestion as the evaluator). */
export function validateIgnore(ids: readonly string[], bundle: ResolvedBundle["versions"]): void {
  if (ids.length > 0) evaluatePreflight([], { bundle, ignore: ids });
}

/** Facts plus the inventory's per-host overrides, from whichever source the flags name. */
export interface GatheredFacts {
  facts: HostFacts[];
  inventory: { hosts: PlanInventoryHost[] };
  /** Where the facts came from, for the report header and the log. */
  source: string;
}

/** Reads or probes facts: --facts FILE, --from-capture DIR (both may take -i for overrides), -i (SSH), or this machine. */
export async function gatherFacts(rt: Runtime, flags: FactSourceFlags, names: string[]): Promise<GatheredFacts> {
  if (flags.facts && flags.fromCapture) throw usageError("--facts and --from-capture both name saved facts; pass one", "drop one of them");
  const offline = flags.facts ?? flags.fromCapture;
  if (offline && flags.captureDir) throw usageError("--capture-dir saves the output of a live probe; with --facts/--from-capture nothing is probed", "drop --capture-dir, or drop --facts/--from-capture to probe live");
  if (names.length > 0 && !flags.inventory && !offline) throw usageError(`host names (${names.join(", ")}) need an inventory`, "pass -i omstack.yaml (see docs/inventory.md), or --facts FILE");

  let inventory: Inventory | null = null;
  let facts: HostFacts[];
  let source: string;
  if (offline) {
    // The inventory only supplies roles, labels and wipe: key files are not needed because nothing connects.
    if (flags.inventory) inventory = await loadInventoryFile(flags.inventory, async () => null);
    facts = flags.facts ? await factsFromFile(flags.facts) : await hostsFromCaptureDir(flags.fromCapture!);
    source = flags.facts ? `facts file ${flags.facts}` : `captures in ${flags.fromCapture}`;
    if (names.length > 0) {
      const unknown = names.filter((n) => !facts.some((f) => f.host === n));
      if (unknown.length > 0) throw new OmstackError("E_HOST_UNKNOWN", `not in ${source}: ${unknown.join(", ")}`, { remedy: `hosts there: ${facts.map((f) => f.host).join(", ")}` });
      facts = facts.filter((f) => names.includes(f.host));
    }
    if (inventory) {
      const wanted = names.length > 0 ? inventory.hosts.filter((h) => names.includes(h.name)) : inventory.hosts;
      const missing = wanted.filter((h) => !facts.some((f) => f.host === h.name)).map((h) => h.name);
      if (missing.length > 0) {
        throw new OmstackError("E_FACTS_HOST_MISSING", `${flags.inventory} lists ${missing.join(", ")}, but ${source} has no facts for ${missing.length === 1 ? "it" : "them"}`, {
          remedy: `probe ${missing.length === 1 ? "it" : "them"} again (omstack probe -i ${flags.inventory} --output json > facts.json), or name only the hosts to check on the command line`,
        });
      }
    }
  } else if (flags.inventory) {
    inventory = await loadInventoryFile(flags.inventory, checkKeyFile);
    facts = (await probeInventory(rt, flags, names, inventory)).map((r) => r.facts);
    source = `probe of ${flags.inventory}`;
  } else {
    facts = (await probeLocal(rt, flags)).map((r) => r.facts);
    source = "probe of this machine";
  }
  if (facts.length === 0) throw usageError(`${source} holds no hosts`, "probe at least one host (docs/probe.md)");
  const dupes = facts.map((f) => f.host).filter((h, i, all) => all.indexOf(h) !== i);
  if (dupes.length > 0) throw new OmstackError("E_CONFIG_DUPLICATE", `${source} holds host ${[...new Set(dupes)].join(", ")} more than once`, { remedy: "keep one entry per host name" });
  const byName = new Map((inventory?.hosts ?? []).map((h) => [h.name, h]));
  return {
    facts,
    inventory: {
      hosts: facts.map((f) => {
        const h = byName.get(f.host);
        const entry: PlanInventoryHost = { name: f.host };
        if (h?.roles.length) entry.roles = h.roles;
        if (h && Object.keys(h.labels).length) entry.labels = h.labels;
        if (h?.wipe.length) entry.wipe = h.wipe;
        return entry;
      }),
    },
    source,
  };
}
