// InstallConfig: every answer the install needs, from the wizard or from omstack.yaml — one shape, so both paths plan alike.
// Secrets (SSH/sudo passwords, the admin password) are never part of it: the file says `ask`, the value lives in memory.
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { dirname, basename, join } from "node:path";
import { Document, type Node } from "yaml";
import { AggregateOmstackError, OmstackError, isOmstackError } from "../errors.js";
import { parseInventory, type KeyFileChecker } from "../inventory/load.js";
import type { AuthMethod, BastionSpec, HostSpec } from "../inventory/types.js";
import type { PipelineInput } from "../plan/pipeline.js";
import type { HostFacts } from "../probe/facts.js";
import type { ServiceSpec } from "../preflight/services.js";
import { parseYamlWithPositions, readInt, readMap, readString, readStringList, scalarValue, type SchemaContext } from "./yamlSchema.js";

/** How the console's admin password is chosen: typed by the operator, or generated and shown once. Never saved. */
export type AdminPasswordPolicy = "ask" | "generate";

/** The whole install, minus secrets: what `omstack install -c omstack.yaml --yes` repeats without questions. */
export interface InstallConfig {
  clusterName: string;
  /** Inventory hosts with how to reach them; auth says `password`/`askPassword`, never the value. */
  hosts: HostSpec[];
  /** null: the planner chooses (3 with 5 or more hosts, else 1). */
  controlPlanes: 1 | 3 | null;
  virtualIP: string | null;
  /** Preflight check ids the operator bypassed knowingly (recorded in the plan). */
  bypassedChecks: string[];
  adminPassword: AdminPasswordPolicy;
  bundlePath: string | null;
  stateDir: string;
  /** Pod and service ranges and the API endpoint; null fields take the planner's defaults (docs/wizard.md). */
  network: ClusterNetwork;
}

/** The operator's network choices for Kubernetes. */
export interface ClusterNetwork {
  podSubnet: string | null;
  serviceSubnet: string | null;
  controlPlaneEndpoint: string | null;
}

/** No network choice made: the planner's defaults apply. */
export const DEFAULT_CLUSTER_NETWORK: ClusterNetwork = Object.freeze({ podSubnet: null, serviceSubnet: null, controlPlaneEndpoint: null });

/** The secrets a run needs, held in memory only (the wizard asks them; `--password-stdin` in scripts). */
export interface InstallSecrets {
  sshPassword: string | null;
  sudoPassword: string | null;
  adminPassword: string | null;
}

const CLUSTER_KEYS = ["name", "controlPlanes", "virtualIP", "bypassChecks", "adminPassword", "bundle", "stateDir", "podSubnet", "serviceSubnet", "controlPlaneEndpoint"] as const;
/** apiVersion/kind written at the top so a later format can be told apart. */
export const INSTALL_API_VERSION = "omstack.io/v1";
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** Why a cluster name is refused, or null (lower-case DNS label, ≤ 40 chars: it names the kubeconfig context and the console). */
export function clusterNameProblem(name: string): string | null {
  return CLUSTER_NAME.test(name) ? null : `"${name}" is not a valid cluster name: use 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit`;
}

/** Reads omstack.yaml: the inventory part through the inventory loader, `cluster:` here; every problem reported at once. */
export async function loadInstallConfig(path: string, checkKey: KeyFileChecker, defaults: { stateDir: string }): Promise<InstallConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OmstackError("E_CONFIG_READ", `cannot read the install config ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`, {
      remedy: code === "ENOENT" ? "run `omstack install` on a terminal to create it with the wizard, or pass another file with -c" : "check the file's permissions",
    });
  }
  return parseInstallConfig(text, path, checkKey, defaults);
}

/** Validates install-config text (see loadInstallConfig); `file` positions the errors. */
export async function parseInstallConfig(text: string, file: string, checkKey: KeyFileChecker, defaults: { stateDir: string }): Promise<InstallConfig> {
  const { doc, ctx } = parseYamlWithPositions(text, file);
  const errors: OmstackError[] = [];
  let hosts: HostSpec[] = [];
  try {
    hosts = (await parseInventory(text, file, checkKey)).hosts;
  } catch (e) {
    if (e instanceof AggregateOmstackError) errors.push(...(e.errors as OmstackError[]));
    else if (isOmstackError(e)) errors.push(e);
    else throw e;
  }
  const root = doc.contents as unknown as { get?: (k: string, keep: boolean) => unknown } | null;
  const clusterNode = (root?.get?.("cluster", true) ?? null) as Node | null;
  const cluster = readCluster(ctx, clusterNode, doc.contents as Node, defaults);
  for (const issue of ctx.issues) errors.push(new OmstackError("E_CONFIG_SCHEMA", issue.message, { location: issue.location, remedy: issue.remedy }));
  if (errors.length > 0 || cluster === null) {
    errors.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0));
    if (errors.length === 1) throw errors[0]!;
    throw new AggregateOmstackError(errors[0]!.code, `${file}: ${errors.length} problems in the install config`, errors);
  }
  return { ...cluster, hosts };
}

function readCluster(ctx: SchemaContext, node: Node | null, rootNode: Node, defaults: { stateDir: string }): Omit<InstallConfig, "hosts"> | null {
  if (node === null) {
    ctx.report(rootNode, "cluster", "the install config has no `cluster:` section", "add `cluster:` with at least `name: <cluster name>` (see docs/wizard.md)");
    return null;
  }
  const m = readMap(ctx, node, "cluster", CLUSTER_KEYS);
  if (!m) return null;
  let ok = true;
  const nameEntry = m.get("name");
  const clusterName = nameEntry ? readString(ctx, nameEntry.value, "cluster.name") : (ctx.report(node, "cluster.name", "cluster has no name", "add `name: <cluster name>` under cluster:"), null);
  if (clusterName !== null && clusterNameProblem(clusterName)) {
    ctx.report(nameEntry!.value, "cluster.name", clusterNameProblem(clusterName)!, "e.g. name: ai-prod");
    ok = false;
  }
  let controlPlanes: 1 | 3 | null = null;
  const cp = m.get("controlPlanes");
  if (cp && scalarValue(cp.value) !== "auto") {
    const n = readInt(ctx, cp.value, "cluster.controlPlanes", 1, 3);
    if (n === 2) ctx.report(cp.value, "cluster.controlPlanes", "cluster.controlPlanes is 2; etcd needs an odd number", "write 1, 3 or auto");
    if (n === 1 || n === 3) controlPlanes = n;
    else ok = false;
  }
  let virtualIP: string | null = null;
  const vip = m.get("virtualIP");
  if (vip) {
    const s = readString(ctx, vip.value, "cluster.virtualIP");
    if (s !== null && isIP(s) === 0) ctx.report(vip.value, "cluster.virtualIP", `cluster.virtualIP must be an IPv4 or IPv6 address, found "${s}"`, "use an unused address on the hosts' network, e.g. 10.0.0.250");
    else virtualIP = s;
  }
  const bypass = m.get("bypassChecks");
  const bypassedChecks = bypass ? readStringList(ctx, bypass.value, "cluster.bypassChecks") : [];
  let adminPassword: AdminPasswordPolicy = "generate";
  const ap = m.get("adminPassword");
  if (ap) {
    const v = scalarValue(ap.value);
    if (v === "ask" || v === "generate") adminPassword = v;
    else {
      ctx.report(ap.value, "cluster.adminPassword", `cluster.adminPassword must be "ask" or "generate", found ${typeof v === "string" ? "a literal password" : String(v)}`, "passwords are never written to files: write `adminPassword: ask` (typed at run time) or `adminPassword: generate` (shown once at the end)");
      ok = false;
    }
  }
  const bundleEntry = m.get("bundle");
  const bundlePath = bundleEntry ? readString(ctx, bundleEntry.value, "cluster.bundle") : null;
  const sd = m.get("stateDir");
  const stateDir = sd ? readString(ctx, sd.value, "cluster.stateDir") : defaults.stateDir;
  const network = readNetwork(ctx, m);
  if (!ok || clusterName === null || bypassedChecks === null || stateDir === null || (bundleEntry && bundlePath === null) || network === null) return null;
  return { clusterName, controlPlanes, virtualIP, bypassedChecks: [...new Set(bypassedChecks)].sort(), adminPassword, bundlePath, stateDir, network };
}

/** podSubnet / serviceSubnet (IPv4 CIDRs that do not overlap) and controlPlaneEndpoint (host or host:port). */
function readNetwork(ctx: SchemaContext, m: Map<string, { value: Node | null }>): ClusterNetwork | null {
  let ok = true;
  const cidr = (key: "podSubnet" | "serviceSubnet", minPrefix: number, maxPrefix: number, example: string): string | null => {
    const e = m.get(key);
    if (!e) return null;
    const v = readString(ctx, e.value, `cluster.${key}`);
    if (v === null) return (ok = false), null;
    const problem = cidrProblem(v, minPrefix, maxPrefix);
    if (problem) {
      ctx.report(e.value, `cluster.${key}`, `cluster.${key}: ${problem}, found "${v}"`, `write an IPv4 range in CIDR form, e.g. ${example}`);
      ok = false;
      return null;
    }
    return v;
  };
  const podSubnet = cidr("podSubnet", 8, 22, "10.244.0.0/16 (each node gets a /24 from it)");
  const serviceSubnet = cidr("serviceSubnet", 12, 28, "10.96.0.0/12");
  if (podSubnet && serviceSubnet && cidrsOverlap(podSubnet, serviceSubnet)) {
    ctx.report(m.get("serviceSubnet")!.value, "cluster.serviceSubnet", `cluster.serviceSubnet ${serviceSubnet} overlaps cluster.podSubnet ${podSubnet}`, "choose two ranges that do not overlap, and neither may contain the hosts' own addresses");
    ok = false;
  }
  let controlPlaneEndpoint: string | null = null;
  const ep = m.get("controlPlaneEndpoint");
  if (ep) {
    const v = readString(ctx, ep.value, "cluster.controlPlaneEndpoint");
    const mm = v === null ? null : /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(v);
    if (v === null || !mm || (mm[2] !== undefined && (Number(mm[2]) < 1 || Number(mm[2]) > 65535))) {
      if (v !== null) ctx.report(ep.value, "cluster.controlPlaneEndpoint", `cluster.controlPlaneEndpoint must be host or host:port, found "${v}"`, "name the load balancer or virtual IP in front of the API servers, e.g. 10.0.0.240:6443");
      ok = false;
    } else controlPlaneEndpoint = v;
  }
  return ok ? { podSubnet, serviceSubnet, controlPlaneEndpoint } : null;
}

/** Why a string is not an IPv4 CIDR with a prefix in [min, max] and no host bits set, or null. */
export function cidrProblem(v: string, minPrefix: number, maxPrefix: number): string | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(v);
  if (!m || isIP(m[1]!) !== 4) return "not an IPv4 CIDR";
  const prefix = Number(m[2]);
  if (prefix < minPrefix || prefix > maxPrefix) return `the prefix must be between /${minPrefix} and /${maxPrefix}`;
  const base = ipv4ToInt(m[1]!);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & ~mask) >>> 0 !== 0) return "host bits are set (the address is not the start of the range)";
  return null;
}

function ipv4ToInt(a: string): number {
  return a.split(".").reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
}

/** True when two valid IPv4 CIDRs share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const range = (c: string): [number, number] => {
    const [ip, p] = c.split("/");
    const size = 2 ** (32 - Number(p));
    const start = ipv4ToInt(ip!);
    return [start, start + size - 1];
  };
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

function authFields(auth: AuthMethod): Record<string, unknown> {
  if (auth.kind === "key") return { identityFile: auth.identityFile };
  if (auth.kind === "agent") return { agent: true };
  return { password: "ask" };
}

function bastionFields(b: BastionSpec): Record<string, unknown> {
  return { address: b.address, port: b.port, user: b.user, ...authFields(b.auth) };
}

/** The YAML text of a config: every host written out in full, secrets as `ask`, defaults left implicit only when equal. */
export function renderInstallConfig(config: InstallConfig): string {
  const doc = new Document({
    apiVersion: INSTALL_API_VERSION,
    kind: "Install",
    cluster: {
      name: config.clusterName,
      controlPlanes: config.controlPlanes ?? "auto",
      ...(config.virtualIP ? { virtualIP: config.virtualIP } : {}),
      adminPassword: config.adminPassword,
      ...(config.bundlePath ? { bundle: config.bundlePath } : {}),
      stateDir: config.stateDir,
      bypassChecks: [...config.bypassedChecks].sort(),
      ...(config.network.podSubnet ? { podSubnet: config.network.podSubnet } : {}),
      ...(config.network.serviceSubnet ? { serviceSubnet: config.network.serviceSubnet } : {}),
      ...(config.network.controlPlaneEndpoint ? { controlPlaneEndpoint: config.network.controlPlaneEndpoint } : {}),
    },
    hosts: config.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      ...authFields(h.auth),
      ...(h.sudo.enabled ? { sudo: h.sudo.askPassword ? { password: "ask" } : true } : {}),
      ...(h.bastion ? { bastion: bastionFields(h.bastion) } : {}),
      ...(h.roles.length ? { roles: h.roles } : {}),
      ...(Object.keys(h.labels).length ? { labels: h.labels } : {}),
      ...(h.wipe.length ? { wipe: h.wipe } : {}),
    })),
  });
  doc.commentBefore = " omstack install config, written by the wizard. Secrets are never stored here: `ask` means asked at run time.\n Repeat this install without questions: omstack install -c omstack.yaml --yes";
  return doc.toString({ lineWidth: 0 });
}

/** Writes omstack.yaml atomically with mode 0600 (it names hosts, users and key paths). */
export async function saveInstallConfig(path: string, config: InstallConfig): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, renderInstallConfig(config), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (e) {
    throw new OmstackError("E_CONFIG_WRITE", `cannot write the install config ${path}: ${(e as Error).message}`, { remedy: "choose a writable folder (the current one, or pass another path)", cause: e });
  }
}

/** The planner's input for a config and the probed facts: the one bridge both the wizard and `--yes` use. */
export function pipelineInputFor(config: InstallConfig, facts: readonly HostFacts[], bundle: PipelineInput["bundle"], services: readonly ServiceSpec[]): PipelineInput {
  return {
    inventory: {
      hosts: config.hosts.map((h) => ({
        name: h.name,
        address: h.address,
        ...(h.roles.length ? { roles: h.roles } : {}),
        ...(Object.keys(h.labels).length ? { labels: h.labels } : {}),
        ...(h.wipe.length ? { wipe: h.wipe } : {}),
      })),
    },
    facts,
    bundle,
    services,
    ignore: [...config.bypassedChecks].sort(),
    options: {
      ...(config.controlPlanes !== null ? { controlPlanes: config.controlPlanes } : {}),
      virtualIP: config.virtualIP,
      clusterName: config.clusterName,
      ...(config.network.podSubnet ? { podSubnet: config.network.podSubnet } : {}),
      ...(config.network.serviceSubnet ? { serviceSubnet: config.network.serviceSubnet } : {}),
      ...(config.network.controlPlaneEndpoint ? { controlPlaneEndpoint: config.network.controlPlaneEndpoint } : {}),
    },
  };
}
