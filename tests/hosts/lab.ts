// The SSH test-host harness: N hosts on this machine, each a netns + UTS/mount/PID namespace with an overlay of the
// machine's root and its own real sshd, showing a recorded hardware profile. See tests/hosts/README.md.

import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  statfsSync,
} from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import {
  AUTHORIZED_KEYS_IN_HOST,
  HOST_KEY_IN_HOST,
  LAB_DIR_IN_HOST,
  renderBootScript,
  renderDevSkeletonScript,
  renderSshdConfig,
} from "./host-files.js";
import { fingerprintOf, generateKeyPair, keyPart } from "./keys.js";
import {
  isLive,
  isOurSshd,
  readState,
  releaseLock,
  tryClaim,
  writeState,
  type LabState,
} from "./lab-state.js";
import {
  LabError,
  cmdlineOf,
  findProcesses,
  isRunning,
  locateOnMachine,
  run,
  sleep,
  spawnDetached,
  tail,
  waitGone,
} from "./machine.js";
import {
  assertHostName,
  assertSubnetIndex,
  assertToolName,
  bridgeName,
  hostAddress,
  hostNames,
  labPrefix,
  MAX_HOSTS,
} from "./names.js";
import { createHostNetwork, createLabNetwork, deleteNetwork, listLabNetwork, subnetInUse } from "./network.js";
import { KNOWN_PROFILE_FILES, PROFILE_DIR_IN_HOST, planProfile, type ProfilePlan } from "./profile-plan.js";
import type { StartOptions, TestHost, TestHostFault, TestHostSpec, TestLab } from "./types.js";

export type { StartOptions, TestHost, TestHostFault, TestHostSpec, TestLab } from "./types.js";
export { LabError } from "./machine.js";

/** Folder of recorded hardware profiles; spec.profile names a subfolder. */
export const PROFILES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../fixtures/hosts");

const FAULTS: readonly TestHostFault[] = ["hang", "garbage", "reject-key", "unreachable", "slow", "changed-host-key"];
/** Subnet indexes tried, in order, when the caller does not choose one. */
const AUTO_SUBNETS = Array.from({ length: 241 }, (_, i) => i + 10);
const OVERLAYFS_MAGIC = 0x794c7630;
const REQUIRED_COMMANDS = ["ip", "nsenter", "unshare", "mount", "chroot", "mknod", "ssh-keygen"];

/** Internal per-host record: the public TestHost plus what the harness needs to restart or stop it. */
interface HostRecord {
  host: TestHost;
  index: number;
  spec: TestHostSpec;
  hostDir: string;
  netns: string;
  sshdConfig: string;
  launcherPid: number | null;
  running: boolean;
  exitInfo: string | null;
}

/** Starts the hosts in parallel and resolves once every reachable sshd accepts TCP; on failure nothing is left behind. */
export async function startTestHosts(specs: TestHostSpec[], opts: StartOptions): Promise<TestLab> {
  const t0 = Date.now();
  validateSpecs(specs);
  checkMachine(opts.runDir);
  const { prefix, subnetIndex } = await claimSubnet(opts.subnetIndex, opts.keepAfterExit === true);
  const lab = new Lab(prefix, subnetIndex, opts);
  try {
    await lab.start(specs);
  } catch (e) {
    await lab.stop().catch(() => undefined);
    throw e;
  }
  lab.startMs = Date.now() - t0;
  return lab;
}

/** Runs fn with started hosts and always stops them, also when fn throws. */
export async function withTestHosts<T>(
  specs: TestHostSpec[],
  fn: (lab: TestLab) => Promise<T>,
  opts: Partial<StartOptions> = {},
): Promise<T> {
  const lab = await startTestHosts(specs, { ...opts, runDir: opts.runDir ?? defaultRunDir() });
  try {
    return await fn(lab);
  } finally {
    await lab.stop();
  }
}

/** Where labs put their folders when the caller does not say: $OMSTACK_LAB_DIR or the OS temp dir. */
export function defaultRunDir(): string {
  return process.env.OMSTACK_LAB_DIR ?? tmpdir();
}

/**
 * Removes what a crashed run with this prefix left: its sshds (by netns, cmdline checked), netns, links, folder and lock.
 * Refuses when the prefix belongs to a live lab.
 */
export async function stopStale(prefix: string): Promise<void> {
  const state = readState(prefix);
  if (state !== null && isLive(state)) {
    throw new LabError(
      `test hosts: ${prefix} belongs to a running lab (owner PID ${state.ownerPid}); stop it with its stop() or \`npx tsx tests/hosts/cli.ts stop --prefix ${prefix}\``,
    );
  }
  await cleanupPrefix(prefix, state);
  releaseLock(prefix);
}

/** Reattaches to a lab started by another process (the CLI), so it can be stopped. */
export function openTestLab(prefix: string): { state: LabState; stop(): Promise<void> } {
  const state = readState(prefix);
  if (state === null) {
    throw new LabError(`test hosts: no lab ${prefix} is recorded in /run/omstack-lab; nothing to stop`);
  }
  return {
    state,
    async stop() {
      await cleanupPrefix(prefix, state);
      releaseLock(prefix);
    },
  };
}

async function cleanupPrefix(prefix: string, state: LabState | null): Promise<void> {
  await killLabProcesses(prefix);
  const { netns, links } = await listLabNetwork(prefix);
  await deleteNetwork(netns, links);
  const dir = state?.labDir;
  if (dir && dir.split("/").pop()?.startsWith(`${prefix}-`) && existsSync(join(dir, "lab.json"))) {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every process of labs with this prefix, found by its cmdline: the sshds (their -f config is named after the prefix)
 * and the launchers and boot shells (their boot.sh lives in a folder named after the prefix). Only the lock holder calls this.
 */
export function labProcesses(prefix: string): { pid: number; cmdline: string }[] {
  const sshd = new RegExp(`sshd.* -f /etc/omstack-lab/${prefix}-h\\d+\\.sshd_config`);
  const boot = new RegExp(`/${prefix}-[^/ ]+/hosts/[^/ ]+/boot\\.sh`);
  return findProcesses((cmd) => sshd.test(cmd) || boot.test(cmd));
}

/** Kills a prefix's processes (PID-namespace inits first, which takes each host's whole process tree) and waits for them. */
async function killLabProcesses(prefix: string): Promise<void> {
  const victims = labProcesses(prefix);
  for (const v of victims) killQuietly(v.pid);
  await Promise.all(victims.map((v) => waitGone(v.pid, 5000)));
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function validateSpecs(specs: TestHostSpec[]): void {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new LabError("test hosts: startTestHosts needs at least one host spec, e.g. [{ name: \"gpu-01\" }]");
  }
  if (specs.length > MAX_HOSTS) throw new LabError(`test hosts: at most ${MAX_HOSTS} hosts per lab; ${specs.length} asked for`);
  const seen = new Set<string>();
  for (const s of specs) {
    assertHostName(s.name);
    if (seen.has(s.name)) throw new LabError(`test hosts: host name ${JSON.stringify(s.name)} appears twice; names must be unique`);
    seen.add(s.name);
    if (s.fault !== undefined && !FAULTS.includes(s.fault)) {
      throw new LabError(`test hosts: ${s.name}: fault ${JSON.stringify(s.fault)} is unknown; use one of ${FAULTS.join(", ")}`);
    }
    if (s.hangTool !== undefined) assertToolName(s.hangTool, `${s.name}: hangTool`);
    for (const t of s.keepTools ?? []) assertToolName(t, `${s.name}: keepTools entry`);
    for (const t of s.hideCommands ?? []) assertToolName(t, `${s.name}: hideCommands entry`);
    if (s.profile !== undefined) resolveProfile(s.name, s.profile);
  }
}

/** Absolute folder of a profile; a clear error when it does not exist. */
export function resolveProfile(hostName: string, profile: string): string {
  if (!isAbsolute(profile) && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(profile)) {
    throw new LabError(`test hosts: ${hostName}: profile ${JSON.stringify(profile)} must be a folder name under tests/fixtures/hosts/ or an absolute path`);
  }
  const dir = isAbsolute(profile) ? profile : join(PROFILES_DIR, profile);
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    let known = "none yet";
    try {
      known = readdirSync(PROFILES_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).join(", ") || known;
    } catch {
      // no profiles folder
    }
    throw new LabError(`test hosts: ${hostName}: profile folder ${dir} does not exist; known profiles: ${known}`);
  }
  return dir;
}

function checkMachine(runDir: string): void {
  if (process.getuid?.() !== 0) {
    throw new LabError("test hosts: need root (network and mount namespaces); run the tests as root, e.g. via tests/run.sh");
  }
  if (!existsSync("/usr/sbin/sshd")) {
    throw new LabError("test hosts: /usr/sbin/sshd not found; install it: apt-get install openssh-server");
  }
  for (const c of REQUIRED_COMMANDS) {
    if (locateOnMachine(c).length === 0) {
      throw new LabError(`test hosts: command ${c} not found; install it: apt-get install iproute2 util-linux coreutils openssh-client`);
    }
  }
  let st;
  try {
    st = statSync(runDir);
  } catch {
    throw new LabError(`test hosts: runDir ${runDir} does not exist; create it or pass an existing folder`);
  }
  if (!st.isDirectory()) throw new LabError(`test hosts: runDir ${runDir} is not a folder`);
  if (statfsSync(runDir).type === OVERLAYFS_MAGIC) {
    throw new LabError(`test hosts: runDir ${runDir} is on overlayfs, which cannot hold an overlay upper dir; use a folder on ext4, xfs or tmpfs`);
  }
}

async function claimSubnet(requested: number | undefined, persistent: boolean): Promise<{ prefix: string; subnetIndex: number }> {
  const candidates = requested === undefined ? AUTO_SUBNETS : [requested];
  if (requested !== undefined) assertSubnetIndex(requested);
  for (const idx of candidates) {
    const prefix = labPrefix(idx);
    const claim = tryClaim(prefix, idx, persistent);
    if (claim.result === "busy") {
      if (requested !== undefined) {
        throw new LabError(
          `test hosts: subnet 198.18.${idx}.0/24 (${prefix}) is in use by a running lab${claim.owner ? ` (owner PID ${claim.owner.ownerPid})` : ""}; pick another subnetIndex or leave it out`,
        );
      }
      continue;
    }
    if (claim.result === "stale") await cleanupPrefix(prefix, claim.state);
    const used = await subnetInUse(idx);
    if (used !== null) {
      releaseLock(prefix);
      if (requested !== undefined) {
        throw new LabError(`test hosts: subnet 198.18.${idx}.0/24 is already on an interface of this machine (${used}); pick another subnetIndex`);
      }
      continue;
    }
    return { prefix, subnetIndex: idx };
  }
  throw new LabError("test hosts: every subnet 198.18.10-250.0/24 is taken by running labs; stop some (npx tsx tests/hosts/cli.ts list)");
}

class Lab implements TestLab {
  labDir = "";
  hosts: TestHost[] = [];
  identityFile = "";
  knownHostsFile = "";
  startMs = 0;
  private records: HostRecord[] = [];
  private stopped = false;
  private exitHook: (() => void) | null = null;
  private rootShadow: string | null = null;

  constructor(
    readonly prefix: string,
    readonly subnetIndex: number,
    private readonly opts: StartOptions,
  ) {}

  async start(specs: TestHostSpec[]): Promise<void> {
    this.labDir = await mkdtemp(join(resolve(this.opts.runDir), `${this.prefix}-`));
    await writeFile(join(this.labDir, "lab.json"), JSON.stringify({ prefix: this.prefix }), { mode: 0o600 });
    this.saveState();
    if (this.opts.keepAfterExit !== true) {
      this.exitHook = () => this.stopSync();
      process.once("exit", this.exitHook);
    }
    const client = await generateKeyPair(join(this.labDir, "client_ed25519"), `omstack-lab-${this.prefix}`);
    this.identityFile = client.privateKeyFile;
    this.knownHostsFile = join(this.labDir, "known_hosts");
    this.rootShadow = lockedRootShadow();
    await mkdir(join(this.labDir, "dev"), { mode: 0o755 });
    await run("sh", ["-c", renderDevSkeletonScript(join(this.labDir, "dev"))]);

    this.records = specs.map((spec, index) => {
      const n = hostNames(this.prefix, index);
      const hostDir = join(this.labDir, "hosts", spec.name);
      return {
        index,
        spec,
        hostDir,
        netns: n.netns,
        sshdConfig: n.sshdConfig,
        launcherPid: null,
        running: false,
        exitInfo: null,
        host: {
          name: spec.name,
          address: hostAddress(this.subnetIndex, index),
          port: 22,
          user: "root",
          identityFile: client.privateKeyFile,
          hostKeyLine: "",
          hostKeyFingerprint: "",
          knownHostKeyLine: "",
          rootDir: join(hostDir, "upper"),
          pid: null,
          fault: spec.fault ?? null,
          profileDir: spec.profile === undefined ? null : resolveProfile(spec.name, spec.profile),
          logFile: join(hostDir, "sshd.log"),
          unshownProfileFiles: [],
        },
      };
    });
    this.hosts = this.records.map((r) => r.host);
    const reachable = this.records.filter((r) => r.spec.fault !== "unreachable");
    await createLabNetwork(this.prefix, this.subnetIndex, reachable.map((r) => r.index));
    this.saveState();
    await Promise.all(this.records.map((r) => this.prepareHost(r, client.publicLine)));
    await writeFile(this.knownHostsFile, this.knownHostsText(), { mode: 0o600 });
    // let every launch settle before failing, so stop() sees each PID that was started
    const launched = await Promise.allSettled(reachable.map((r) => this.launch(r)));
    this.saveState();
    const failed = launched.find((x): x is PromiseRejectedResult => x.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** Writes everything a host needs into its folder and upper dir (before its overlay is mounted). */
  private async prepareHost(r: HostRecord, clientPublicLine: string): Promise<void> {
    const upper = r.host.rootDir;
    for (const d of ["upper", "work", "merged", "run", "run/sshd"]) await mkdir(join(r.hostDir, d), { recursive: true, mode: 0o755 });
    ensureUpperDir(upper, "/tmp");
    chmodSync(join(upper, "tmp"), 0o1777);
    ensureUpperDir(upper, LAB_DIR_IN_HOST);

    const hostKey = await generateKeyPair(join(upper, HOST_KEY_IN_HOST), r.spec.name);
    r.host.hostKeyLine = hostKey.publicLine;
    r.host.hostKeyFingerprint = fingerprintOf(hostKey.publicLine);
    r.host.knownHostKeyLine = hostKey.publicLine;
    if (r.spec.fault === "changed-host-key") {
      const old = await generateKeyPair(join(r.hostDir, "recorded_host_key"), r.spec.name);
      r.host.knownHostKeyLine = old.publicLine;
    }
    let authorized = clientPublicLine;
    if (r.spec.fault === "reject-key") {
      authorized = (await generateKeyPair(join(r.hostDir, "other_client_key"), "not-the-lab-key")).publicLine;
    }
    // 0644: sshd reads it as the logging-in user, and every account on a test host uses the lab key.
    await writeFile(join(upper, AUTHORIZED_KEYS_IN_HOST), authorized + "\n", { mode: 0o644 });
    await writeFile(join(upper + r.sshdConfig), renderSshdConfig(), { mode: 0o600 });

    await writeFile(join(upper, "etc/hostname"), `${r.spec.name}\n`, { mode: 0o644 });
    await writeFile(
      join(upper, "etc/hosts"),
      `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${r.host.address}\t${r.spec.name}\n`,
      { mode: 0o644 },
    );
    await writeFile(join(upper, "etc/machine-id"), `${randomBytes(16).toString("hex")}\n`, { mode: 0o444 });
    // A fresh server's root home (Debian's stock dot files from base-files), not this dev machine's: its .bashrc runs
    // pyenv at every `ssh host cmd` (bash reads .bashrc under sshd), ~200 ms that no real target pays.
    ensureUpperDir(upper, "/root");
    for (const [from, to] of [["dot.bashrc", ".bashrc"], ["dot.profile", ".profile"]] as const) {
      const stock = join("/usr/share/base-files", from);
      if (existsSync(stock)) await copyFile(stock, join(upper, "root", to));
      else await writeFile(join(upper, "root", to), "", { mode: 0o644 });
    }
    if (this.rootShadow !== null) {
      await writeFile(join(upper, "etc/shadow"), this.rootShadow, { mode: 0o640 });
      const st = lstatSync("/etc/shadow");
      chownSync(join(upper, "etc/shadow"), st.uid, st.gid);
    }
    await this.applyProfile(r);
  }

  private async applyProfile(r: HostRecord): Promise<void> {
    const upper = r.host.rootDir;
    const profileFiles = r.host.profileDir === null ? null : (await readdir(r.host.profileDir)).filter((f) => KNOWN_PROFILE_FILES.includes(f));
    const garbage = r.spec.fault === "garbage";
    const plan: ProfilePlan = planProfile({
      profileFiles: garbage && profileFiles === null ? [...KNOWN_PROFILE_FILES] : profileFiles,
      fault: r.spec.fault ?? null,
      hangTool: r.spec.hangTool ?? "nvidia-smi",
      keepTools: r.spec.keepTools ?? [],
      hideCommands: r.spec.hideCommands ?? [],
      locate: locateOnMachine,
    });
    const profileInUpper = upper + PROFILE_DIR_IN_HOST;
    if (plan.files.length > 0) ensureUpperDir(upper, PROFILE_DIR_IN_HOST);
    for (const f of plan.files) {
      const dest = join(profileInUpper, f);
      if (garbage) await writeFile(dest, randomBytes(4096), { mode: 0o644 });
      else {
        await copyFile(join(r.host.profileDir ?? "", f), dest);
        await chmod(dest, 0o644);
      }
    }
    for (const s of plan.shims) {
      ensureUpperDir(upper, dirname(s.path));
      await writeFile(upper + s.path, s.script, { mode: 0o755 });
    }
    for (const h of plan.hidden) ensureUpperDir(upper, dirname(h));
    if (plan.osRelease !== null) {
      for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
        ensureUpperDir(upper, dirname(p));
        await rm(upper + p, { force: true });
        await copyFile(join(profileInUpper, plan.osRelease), upper + p);
        await chmod(upper + p, 0o644);
      }
    }
    // a file can only be bound over an existing /proc entry: this kernel may lack one (no /proc/modules without module support)
    const procBinds = plan.procBinds.filter((b) => existsSync(b.target));
    const showNvidia = plan.nvidiaVersion !== null && existsSync("/proc/driver");
    r.host.unshownProfileFiles = [
      ...plan.procBinds.filter((b) => !procBinds.includes(b)).map((b) => b.capture),
      ...(plan.nvidiaVersion !== null && !showNvidia ? [plan.nvidiaVersion] : []),
    ];
    const boot = renderBootScript({
      paths: {
        upper,
        work: join(r.hostDir, "work"),
        merged: join(r.hostDir, "merged"),
        run: join(r.hostDir, "run"),
        devSkeleton: join(this.labDir, "dev"),
        pidFile: join(r.hostDir, "sshd.pid"),
        profileInUpper,
      },
      hostname: r.spec.name,
      cidr: `${r.host.address}/24`,
      sshdConfigInHost: r.sshdConfig,
      hidden: plan.hidden,
      procBinds,
      nvidiaVersion: showNvidia ? plan.nvidiaVersion : null,
    });
    await writeFile(join(r.hostDir, "boot.sh"), boot, { mode: 0o700 });
  }

  /** Starts one host's namespaces and sshd, and waits until it accepts TCP on port 22. */
  private async launch(r: HostRecord): Promise<void> {
    await rm(join(r.hostDir, "sshd.pid"), { force: true });
    const logFd = openSync(r.host.logFile, "a", 0o600);
    r.exitInfo = null;
    try {
      r.launcherPid = await spawnDetached(
        "nsenter",
        [`--net=/run/netns/${r.netns}`, "unshare", "--mount", "--uts", "--pid", "--fork", "--propagation", "private", "/bin/sh", join(r.hostDir, "boot.sh")],
        logFd,
        (code) => {
          r.exitInfo = `launcher exited with code ${String(code)}`;
        },
      );
    } finally {
      closeSync(logFd);
    }
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 30_000);
    while (!(await acceptsTcp(r.host.address, 22, 500))) {
      if (r.exitInfo !== null || Date.now() > deadline) {
        const log = existsSync(r.host.logFile) ? tail(readFileSync(r.host.logFile, "utf8")) : "(no log)";
        throw new LabError(
          `test hosts: ${r.spec.name} (${r.host.address}): sshd did not accept connections ${r.exitInfo ?? `within ${this.opts.readyTimeoutMs ?? 30_000} ms`}; ${r.host.logFile}:\n${log}`,
        );
      }
      await sleep(30);
    }
    // sshd listens before it writes its PidFile: under load the port answers a moment before sshd.pid exists.
    let pid = 0;
    while (!(pid > 0)) {
      pid = Number((await readFile(join(r.hostDir, "sshd.pid"), "utf8").catch(() => "")).trim());
      if (pid > 0) break;
      if (r.exitInfo !== null || Date.now() > deadline) throw new LabError(`test hosts: ${r.spec.name}: sshd accepts connections but wrote no sshd.pid ${r.exitInfo ?? "in time"}`);
      await sleep(20);
    }
    if (!isOurSshd(pid, r.sshdConfig)) {
      throw new LabError(`test hosts: ${r.spec.name}: PID ${pid} from sshd.pid is not the host's sshd (${cmdlineOf(pid) ?? "gone"})`);
    }
    r.host.pid = pid;
    r.running = true;
  }

  knownHostsText(): string {
    return this.hosts.map((h) => `${h.port === 22 ? h.address : `[${h.address}]:${h.port}`} ${keyPart(h.knownHostKeyLine)}\n`).join("");
  }

  async writeInventory(path: string): Promise<void> {
    const doc = {
      hosts: this.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user, identityFile: h.identityFile })),
    };
    await writeFile(path, stringify(doc), { mode: 0o600 });
    await chmod(path, 0o600);
  }

  host(name: string): TestHost {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new LabError(`test hosts: no host ${JSON.stringify(name)} in this lab; hosts: ${this.hosts.map((x) => x.name).join(", ")}`);
    return h;
  }

  sshArgs(name: string, extra: string[] = [], opts: { knownHostsFile?: string } = {}): string[] {
    const h = this.host(name);
    return [
      "-F", "/dev/null",
      "-i", h.identityFile,
      "-o", "IdentitiesOnly=yes",
      "-o", `UserKnownHostsFile=${opts.knownHostsFile ?? this.knownHostsFile}`,
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "StrictHostKeyChecking=yes",
      "-o", "BatchMode=yes",
      "-o", "ConnectTimeout=5",
      "-p", String(h.port),
      `${h.user}@${h.address}`,
      ...extra,
    ];
  }

  async rotateHostKey(name: string): Promise<TestHost> {
    const r = this.records.find((x) => x.spec.name === name);
    if (r === undefined) this.host(name);
    if (r === undefined || r.spec.fault === "unreachable") {
      throw new LabError(`test hosts: ${name} has no sshd (fault "unreachable"); rotateHostKey needs a running host`);
    }
    await this.stopHost(r);
    // /run/netns keeps the netns (and its eth0 address) while sshd is down; recreate it only if someone removed it
    if (!existsSync(`/run/netns/${r.netns}`)) await createHostNetwork(this.prefix, r.index);
    const key = await generateKeyPair(join(r.host.rootDir, HOST_KEY_IN_HOST), r.spec.name);
    r.host.hostKeyLine = key.publicLine;
    r.host.hostKeyFingerprint = fingerprintOf(key.publicLine);
    await this.launch(r);
    this.saveState();
    return r.host;
  }

  private async stopHost(r: HostRecord): Promise<void> {
    const pid = r.host.pid;
    if (pid !== null && isOurSshd(pid, r.sshdConfig)) killQuietly(pid);
    if (pid !== null) await waitGone(pid, 5000);
    if (r.launcherPid !== null) await waitGone(r.launcherPid, 5000);
    r.running = false;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.exitHook !== null) process.removeListener("exit", this.exitHook);
    await Promise.all(this.records.map((r) => this.stopHost(r)));
    await killLabProcesses(this.prefix); // a host whose launch had not finished has no recorded PID yet
    const { netns, links } = await listLabNetwork(this.prefix);
    await deleteNetwork(netns, links);
    if (this.labDir !== "") await rm(this.labDir, { recursive: true, force: true });
    releaseLock(this.prefix);
  }

  /** Last-resort cleanup when the process exits without stop(): synchronous, same order as stop(). */
  private stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    const victims = labProcesses(this.prefix).map((v) => v.pid);
    for (const pid of victims) killQuietly(pid);
    const deadline = Date.now() + 3000;
    const pids = [...victims, ...this.records.flatMap((r) => [r.host.pid, r.launcherPid])].filter((p): p is number => p !== null);
    while (pids.some((p) => isRunning(p)) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    const lines = [
      ...this.records.map((r) => `netns del ${r.netns}`),
      ...this.records.map((r) => `link del ${hostNames(this.prefix, r.index).veth}`),
      `link del ${bridgeName(this.prefix)}`,
    ];
    spawnSync("ip", ["-force", "-batch", "-"], { input: lines.join("\n") + "\n", stdio: ["pipe", "ignore", "ignore"] });
    if (this.labDir !== "") rmSync(this.labDir, { recursive: true, force: true });
    releaseLock(this.prefix);
  }

  private saveState(): void {
    writeState({
      prefix: this.prefix,
      subnetIndex: this.subnetIndex,
      ownerPid: process.pid,
      ownerStart: readState(this.prefix)?.ownerStart ?? null,
      persistent: this.opts.keepAfterExit === true,
      labDir: this.labDir || null,
      hosts: this.records.map((r) => ({ name: r.spec.name, index: r.index, pid: r.host.pid, sshdConfig: r.sshdConfig })),
    });
  }
}

/** Resolves true when a TCP connection to address:port opens within timeoutMs. */
function acceptsTcp(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolveOk) => {
    const sock = connect({ host: address, port });
    const done = (ok: boolean) => {
      sock.removeAllListeners();
      sock.destroy();
      resolveOk(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/**
 * Creates hostPath's folders inside an upper dir with the owner and mode of the same folders on the machine:
 * in an overlay the upper folder's attributes win, so /etc must stay root 0755.
 */
function ensureUpperDir(upper: string, hostPath: string): void {
  let cur = "";
  for (const part of hostPath.split("/").filter(Boolean)) {
    cur += `/${part}`;
    const target = upper + cur;
    if (existsSync(target)) continue;
    mkdirSync(target);
    try {
      const st = statSync(cur);
      chmodSync(target, st.mode & 0o7777);
      chownSync(target, st.uid, st.gid);
    } catch {
      chmodSync(target, 0o755);
    }
  }
}

/** When root's password field is locked ("!…"), sshd without PAM refuses even key logins: a host copy with "*". */
function lockedRootShadow(): string | null {
  let text: string;
  try {
    text = readFileSync("/etc/shadow", "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.startsWith("root:"));
  const fields = i >= 0 ? (lines[i] ?? "").split(":") : [];
  if (fields[1] === undefined || !fields[1].startsWith("!")) return null;
  fields[1] = "*";
  lines[i] = fields.join(":");
  return lines.join("\n");
}
