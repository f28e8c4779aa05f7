// What the qemu-VM proofs share: ssh into the VM through vm.sh, assertions that stop the proof, timed phases, and the
// installer's own SshConnector to the VM (key from vm.sh env, its known_hosts, no password ever).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { SshConnector, type Secrets } from "../../../installer/src/adapters/ssh/client.js";
import { KnownHostsFile } from "../../../installer/src/adapters/ssh/knownHosts.js";
import type { HostSpec } from "../../../installer/src/inventory/types.js";

const run = promisify(execFile);
/** The VM's control script. */
export const VM = join(import.meta.dirname, "vm.sh");
/** The VM's host name (and its name in plans). */
export const HOST = "omvm1";

/** Runs a shell command in the VM; exit codes in `ok` return stdout, any other throws with stderr. */
export async function vm(command: string, ok: number[] = [0]): Promise<string> {
  try {
    return (await run(VM, ["ssh", command], { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (ok.includes(err.code ?? -1)) return err.stdout ?? "";
    throw new Error(`vm ssh ${JSON.stringify(command)} failed (${err.code}): ${err.stderr ?? ""}`);
  }
}

/** Runs a vm.sh subcommand (up, wait-ssh SEC, …) and returns its stdout. */
export async function vmCtl(...args: string[]): Promise<string> {
  return (await run(VM, args)).stdout;
}

/** An assertion of a proof: prints "ok: …", or "FAIL: …" and exits 1. */
export function check(cond: boolean, what: string): void {
  if (!cond) {
    console.error(`FAIL: ${what}`);
    process.exit(1);
  }
  console.log(`  ok: ${what}`);
}

/** Runs a phase and prints its duration; the durations are kept in `timings` (ms). */
export function timer(): { timings: Record<string, number>; timed: <T>(name: string, f: () => Promise<T>) => Promise<T> } {
  const timings: Record<string, number> = {};
  return {
    timings,
    async timed(name, f) {
      const t0 = performance.now();
      const r = await f();
      timings[name] = Math.round(performance.now() - t0);
      console.log(`${name}: ${(timings[name]! / 1000).toFixed(1)} s`);
      return r;
    },
  };
}

const noSecrets: Secrets = {
  sshPassword: async () => Promise.reject(new Error("the VM is reached with its key only")),
  keyPassphrase: async () => undefined,
  sudoPassword: async () => Promise.reject(new Error("root needs no sudo")),
};

/** The VM as an inventory host, and the installer's connector to it (host key from vm.sh's known_hosts only). */
export async function vmConnection(): Promise<{ spec: HostSpec; connector: SshConnector }> {
  const env = Object.fromEntries((await run(VM, ["env"])).stdout.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
  const spec: HostSpec = { name: HOST, address: env.VM_SSH_HOST!, port: Number(env.VM_SSH_PORT), user: "root", auth: { kind: "key", identityFile: env.VM_KEY! }, sudo: { enabled: false }, bastion: null, roles: [], labels: {}, wipe: [] };
  const knownHosts = await KnownHostsFile.open(env.VM_KNOWN_HOSTS!);
  const connector = new SshConnector({ connectTimeoutMs: 20_000, keepaliveMs: 5_000, secrets: noSecrets, hostKeys: { knownHosts, acceptNew: false, accepted: [] } });
  return { spec, connector };
}
