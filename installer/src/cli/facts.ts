// Gathers HostFacts for any command (probe, preflight, plan): live over SSH, of this machine, from captures, or from a facts JSON file.
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { hostname } from "node:os";
import { OmstackError } from "../errors.js";
import { loadInventoryFile } from "../inventory/load.js";
import type { HostSpec, Inventory } from "../inventory/types.js";
import { checkKeyFile } from "../adapters/ssh/keyfile.js";
import { KnownHostsFile } from "../adapters/ssh/knownHosts.js";
import { SshConnector, type HostKeyPolicy } from "../adapters/ssh/client.js";
import { localConnector } from "../adapters/local/localSession.js";
import { enrichWithSystemInformation } from "../adapters/local/systemInfo.js";
import { writeCaptures } from "../adapters/fs/captureDir.js";
import { probeHosts, type ProbeEvent, type ProbeResult } from "../probe/probeHosts.js";
import { readCaptureDir } from "../probe/captureDir.js";
import { parseCaptures } from "../probe/parse/index.js";
import type { HostFacts } from "../probe/facts.js";
import { defaultKnownHostsPath } from "../config/paths.js";
import { confirm, readStdinSecret, runtimeSecrets } from "./prompts/secrets.js";
import { usageError, type Runtime } from "./runtime.js";

/** The flags every fact-gathering command shares (see `addFactSourceOptions`). */
export interface ProbeFlags {
  inventory?: string;
  knownHosts?: string;
  acceptNewHostKeys: boolean;
  captureDir?: string;
  fromCapture?: string;
  concurrency: string;
  connectTimeout: string;
  commandTimeout: string;
  timeout: string;
  passwordStdin: boolean;
}

function positiveInt(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw usageError(`${flag} must be a whole number from 1 to ${max}, got "${value}"`, `pass e.g. ${flag} 10`);
  return n;
}

/** Live progress: a rewritten status line on a TTY, one plain line per event otherwise. */
function progressPrinter(rt: Runtime, total: number): { onEvent: (e: ProbeEvent) => void; finish: () => void } {
  let done = 0;
  let failed = 0;
  const live = rt.isTTY && rt.output === "table";
  return {
    onEvent(e) {
      rt.log.info({ event: e.type, host: e.host, ms: "ms" in e ? e.ms : undefined, error: e.type === "host-failed" ? { code: e.error.code, message: e.error.message } : undefined }, "probe event");
      if (e.type === "host-done") done++;
      if (e.type === "host-failed") {
        done++;
        failed++;
      }
      if (live) {
        if (e.type === "host-done" || e.type === "host-failed") process.stderr.write(`\r\x1b[Kprobing: ${done}/${total} done${failed ? `, ${failed} failed` : ""}`);
      } else if (e.type === "host-done") rt.note(`${e.host}: probed in ${e.ms} ms`);
      else if (e.type === "host-failed") rt.note(`${e.host}: FAILED after ${e.ms} ms: ${e.error.message.replace(`${e.host}: `, "")} [${e.error.code}]`);
    },
    finish() {
      if (live) process.stderr.write("\r\x1b[K");
    },
  };
}

/** Parses a capture directory (DIR/HOST/… or one host's folder) offline. */
export async function hostsFromCaptureDir(dir: string): Promise<HostFacts[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new OmstackError("E_CAPTURE_DIR", `cannot read capture directory ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}`, {
      remedy: "pass the folder written by --capture-dir (DIR/HOST/…) or one host's folder of capture files (see docs/probe.md)",
    });
  }
  const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const files = entries.filter((e) => e.isFile());
  const hostDirs = files.length > 0 || subdirs.length === 0 ? [{ host: basename(dir), path: dir }] : subdirs.map((d) => ({ host: d, path: join(dir, d) }));
  const facts: HostFacts[] = [];
  for (const h of hostDirs) {
    const warnings: { capture: string; message: string }[] = [];
    const captures = await readCaptureDir(h.path, { onWarning: (w) => warnings.push(w) });
    if (captures.size === 0) {
      throw new OmstackError("E_CAPTURE_DIR", `${h.path} holds no capture files`, { remedy: "capture files are named os-release, lsblk.json, nvidia-smi-q-x.xml, … (docs/probe.md lists them)" });
    }
    const hostName = captures.get("hostname.txt")?.trim() || h.host;
    const parsed = parseCaptures(hostName, captures);
    parsed.warnings.push(...warnings);
    facts.push(parsed);
  }
  return facts;
}

/** SSH settings of one run: omstack's known_hosts, the host-key policy and run-time secrets (asked once). */
export interface SshSetup {
  knownHostsPath: string;
  knownHosts: KnownHostsFile;
  policy: HostKeyPolicy;
  sshOptions: ConstructorParameters<typeof SshConnector>[0];
}

const setups = new WeakMap<object, Promise<SshSetup>>();

/** One SshSetup per command run (keyed by its flags), so a password read from stdin is read once and reused. */
export function sshSetup(flags: ProbeFlags): Promise<SshSetup> {
  let setup = setups.get(flags);
  if (!setup) {
    setup = (async () => {
      const knownHostsPath = flags.knownHosts ?? defaultKnownHostsPath();
      const knownHosts = await KnownHostsFile.open(knownHostsPath);
      const policy: HostKeyPolicy = { knownHosts, acceptNew: flags.acceptNewHostKeys, accepted: [] };
      const secret = flags.passwordStdin ? await readStdinSecret() : null;
      const sshOptions = {
        connectTimeoutMs: positiveInt(flags.connectTimeout, "--connect-timeout", 600) * 1000,
        keepaliveMs: 5000,
        secrets: runtimeSecrets(secret),
        hostKeys: policy,
      };
      return { knownHostsPath, knownHosts, policy, sshOptions };
    })();
    setups.set(flags, setup);
  }
  return setup;
}

/** Probes inventory hosts over SSH (all, or the named ones). */
export async function probeInventory(rt: Runtime, flags: ProbeFlags, names: string[], loaded?: Inventory): Promise<ProbeResult[]> {
  const inventory = loaded ?? (await loadInventoryFile(flags.inventory!, checkKeyFile));
  let hosts: HostSpec[] = inventory.hosts;
  if (names.length > 0) {
    const unknown = names.filter((n) => !hosts.some((h) => h.name === n));
    if (unknown.length > 0) throw new OmstackError("E_HOST_UNKNOWN", `not in ${flags.inventory}: ${unknown.join(", ")}`, { remedy: `hosts in the inventory: ${hosts.map((h) => h.name).join(", ")}` });
    hosts = hosts.filter((h) => names.includes(h.name));
  }
  const { knownHostsPath, knownHosts, policy, sshOptions } = await sshSetup(flags);
  const connector = new SshConnector(sshOptions);
  const opts = {
    concurrency: positiveInt(flags.concurrency, "--concurrency", 1000),
    commandTimeoutSec: positiveInt(flags.commandTimeout, "--command-timeout", 3600),
    scriptTimeoutMs: positiveInt(flags.timeout, "--timeout", 36000) * 1000,
    random: randomBytes,
    now: Date.now,
  };
  rt.log.info({ hosts: hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user, auth: h.auth.kind })), knownHostsPath }, "probing inventory");
  const progress = progressPrinter(rt, hosts.length);
  let results = await probeHosts(hosts, connector, { ...opts, onEvent: progress.onEvent });
  progress.finish();

  // Unknown host keys on an interactive terminal: show every fingerprint, ask once, retry those hosts.
  const unknown = results.filter((r) => r.error?.code === "E_SSH_HOSTKEY_UNKNOWN");
  if (unknown.length > 0 && !flags.acceptNewHostKeys && process.stdin.isTTY && !flags.passwordStdin) {
    rt.note(`${unknown.length} host(s) present keys omstack has not seen before:`);
    for (const r of unknown) rt.note(`  ${r.host}: ${String(r.error!.details?.keyType)} ${String(r.error!.details?.fingerprint)}`);
    if (await confirm("Trust these host keys and continue?")) {
      const retryHosts = hosts.filter((h) => unknown.some((u) => u.host === h.name));
      const again = await probeHosts(retryHosts, new SshConnector({ ...sshOptions, hostKeys: { ...policy, acceptNew: true } }), { ...opts, onEvent: progressPrinter(rt, retryHosts.length).onEvent });
      results = results.map((r) => again.find((a) => a.host === r.host) ?? r);
    }
  }
  if (policy.accepted.length > 0) {
    await knownHosts.add(policy.accepted);
    rt.note(`recorded new host key(s) in ${knownHostsPath}`);
    policy.accepted.length = 0;
  }
  if (flags.captureDir) {
    await Promise.all(results.filter((r) => r.outcomes.length > 0).map((r) => writeCaptures(flags.captureDir!, r.host, r.outcomes)));
    rt.note(`captures written to ${flags.captureDir}/<host>/`);
  }
  return results;
}

/** Probes this machine without SSH. */
export async function probeLocal(rt: Runtime, flags: ProbeFlags): Promise<ProbeResult[]> {
  const name = hostname();
  const results = await probeHosts([{ name }], localConnector, {
    concurrency: 1,
    commandTimeoutSec: positiveInt(flags.commandTimeout, "--command-timeout", 3600),
    scriptTimeoutMs: positiveInt(flags.timeout, "--timeout", 36000) * 1000,
    random: randomBytes,
    now: Date.now,
    onEvent: (e) => rt.log.info({ event: e.type }, "local probe"),
  });
  const r = results[0]!;
  if (!r.error) r.facts = await enrichWithSystemInformation(r.facts);
  if (flags.captureDir) await writeCaptures(flags.captureDir, r.host, r.outcomes);
  return results;
}


/** Reads facts saved by `omstack probe --output json` (`{"hosts": [...]}`), checking the shape. */
export async function factsFromFile(path: string): Promise<HostFacts[]> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new OmstackError("E_CONFIG_READ", `cannot read facts from ${path}: ${(e as Error).message}`, { remedy: "pass the JSON printed by `omstack probe --output json`" });
  }
  const hosts = (data as { hosts?: unknown }).hosts;
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== "object" || h === null || typeof (h as HostFacts).host !== "string" || !Array.isArray((h as HostFacts).gpus))) {
    throw new OmstackError("E_CONFIG_SCHEMA", `${path} is not a facts file: expected {"hosts": [HostFacts, …]}`, { remedy: "create it with `omstack probe -i omstack.yaml --output json > facts.json`" });
  }
  return hosts as HostFacts[];
}
