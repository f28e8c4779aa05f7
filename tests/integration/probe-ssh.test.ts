// `omstack probe` end to end: the built CLI against real sshd test hosts in network namespaces.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { omstack, repoRoot as repo, cliPath as cli } from "./run-cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { readCaptureDir } from "../../installer/src/probe/captureDir.js";
import { parseCaptures } from "../../installer/src/probe/parse/index.js";
import type { HostFacts } from "../../installer/src/probe/facts.js";



// Facts that depend on the test host itself, not on its hardware profile.
function hardwareOnly(f: HostFacts) {
  return { os: f.os, cpu: f.cpu, memory: f.memory, gpus: f.gpus, gpuDriver: f.gpuDriver, cudaToolkit: f.cudaToolkit, rdma: f.rdma.map((p) => ({ ...p })), ofed: f.ofed, disks: f.disks };
}

const PROFILES = ["h100-ib", "a100-roce", "a100-mig", "cpu-hdd", "tools-missing"];

// Facts parsed offline from a host's profile (what every probe of that host must report).
function by12(name: string): HostFacts {
  return offlineFacts.get(name)!;
}
const offlineFacts = new Map<string, HostFacts>();

function omstackWithStdin(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

describe("omstack probe over SSH", () => {
  let lab: TestLab;
  let work: string;
  let inventory: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "omstack-probe-it-"));
    lab = await startTestHosts(
      [
        ...PROFILES.map((p) => ({ name: p, profile: p })),
        { name: "plain-01", profile: "cpu-hdd" },
        { name: "plain-02", profile: "h100-ib" },
        { name: "down-01", fault: "unreachable" as const },
        { name: "wrongkey-01", profile: "cpu-hdd", fault: "reject-key" as const },
        { name: "rekeyed-01", profile: "cpu-hdd", fault: "changed-host-key" as const },
        { name: "hang-01", profile: "h100-ib", fault: "hang" as const },
        { name: "garbage-01", profile: "h100-ib", fault: "garbage" as const },
      ],
      { runDir: work },
    );
    inventory = join(work, "omstack.yaml");
    await lab.writeInventory(inventory);
    offlineFacts.set("plain-01", parseCaptures("plain-01", await readCaptureDir(join(repo, "tests/fixtures/hosts/cpu-hdd"))));
  });

  afterAll(async () => {
    await lab?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("probes 12 hosts in parallel, reports each failing host with its reason, and exits 1", async () => {
    const captures = join(work, "captures");
    const r = await omstack(["probe", "-i", inventory, "--known-hosts", lab.knownHostsFile, "--output", "json", "--connect-timeout", "3", "--command-timeout", "2", "--capture-dir", captures]);
    expect(r.code).toBe(1);
    const hosts = (JSON.parse(r.stdout) as { hosts: HostFacts[] }).hosts;
    const by = Object.fromEntries(hosts.map((h) => [h.host, h]));
    expect(hosts).toHaveLength(12);

    // Each healthy host's hardware facts equal those parsed offline from its profile's real captures.
    for (const name of [...PROFILES, "plain-01", "plain-02"]) {
      const profile = name === "plain-01" ? "cpu-hdd" : name === "plain-02" ? "h100-ib" : name;
      const offline = parseCaptures(name, await readCaptureDir(join(repo, "tests/fixtures/hosts", profile)));
      expect(by[name]!.reachable, `${name}: ${by[name]!.error}`).toBe(true);
      expect(hardwareOnly(by[name]!)).toEqual(hardwareOnly(offline));
    }
    expect(by["h100-ib"]!.gpus.length).toBeGreaterThan(0);
    expect(by["h100-ib"]!.rdma.some((p) => p.linkLayer === "InfiniBand")).toBe(true);
    expect(by["a100-roce"]!.rdma.some((p) => p.linkLayer === "Ethernet")).toBe(true);
    expect(by["a100-mig"]!.gpus.some((g) => g.migMode === "enabled")).toBe(true);
    expect(by["cpu-hdd"]!.gpus).toEqual([]);
    expect(by["cpu-hdd"]!.missingTools).toContain("nvidia-smi");
    expect(by["tools-missing"]!.missingTools).toEqual(expect.arrayContaining(["nvidia-smi", "lspci", "ibv_devinfo"]));

    // Failures: each with its own stable code.
    expect(by["down-01"]).toMatchObject({ reachable: false, errorCode: expect.stringMatching(/E_SSH_(TIMEOUT|CONNECT)/) });
    expect(by["wrongkey-01"]).toMatchObject({ reachable: false, errorCode: "E_SSH_AUTH" });
    expect(by["rekeyed-01"]).toMatchObject({ reachable: false, errorCode: "E_SSH_HOSTKEY_CHANGED" });
    expect(by["rekeyed-01"]!.error).toContain(lab.host("rekeyed-01").hostKeyFingerprint);
    // A hanging tool is killed; the host still answers with everything else and a warning.
    expect(by["hang-01"]!.reachable).toBe(true);
    expect(by["hang-01"]!.warnings.some((w) => w.capture === "nvidia-smi-q-x.xml" && /timed out/.test(w.message))).toBe(true);
    expect(by["hang-01"]!.os).toEqual(by["h100-ib"]!.os);
    // Garbage output never crashes the parsers.
    expect(by["garbage-01"]!.reachable).toBe(true);

    expect(r.stderr).toMatch(/failed on 3 host\(s\)/);
    expect(r.stderr).toMatch(/log: \S+\.log/);

    // Captures round-trip: parsing the saved captures offline gives the same facts.
    const offline = await omstack(["probe", "--from-capture", captures, "--output", "json"]);
    expect(offline.code).toBe(0);
    const again = (JSON.parse(offline.stdout) as { hosts: HostFacts[] }).hosts;
    for (const h of again) expect(hardwareOnly(h)).toEqual(hardwareOnly(by[h.host]!));
    expect((await stat(join(captures, "h100-ib", "lsblk.json"))).mode & 0o777).toBe(0o600);
  });

  it("refuses unknown host keys without --accept-new-host-keys, then records them when accepted", async () => {
    const kh = join(work, "fresh_known_hosts");
    const first = await omstack(["probe", "-i", inventory, "plain-01", "plain-02", "--known-hosts", kh, "-o", "json"]);
    expect(first.code).toBe(1);
    const hosts = (JSON.parse(first.stdout) as { hosts: HostFacts[] }).hosts;
    expect(hosts.map((h) => h.errorCode)).toEqual(["E_SSH_HOSTKEY_UNKNOWN", "E_SSH_HOSTKEY_UNKNOWN"]);
    expect(first.stderr).toContain(lab.host("plain-01").hostKeyFingerprint);
    expect(first.stderr).toContain("--accept-new-host-keys");

    const second = await omstack(["probe", "-i", inventory, "plain-01", "plain-02", "--known-hosts", kh, "--accept-new-host-keys", "-o", "json"]);
    expect(second.code).toBe(0);
    const text = await readFile(kh, "utf8");
    expect(text.trim().split("\n")).toHaveLength(2);
    expect((await stat(kh)).mode & 0o777).toBe(0o600);

    const third = await omstack(["probe", "-i", inventory, "plain-01", "--known-hosts", kh, "-o", "yaml"]);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain("host: plain-01");
  });

  it("on a terminal, lists unknown fingerprints and trusts them only after the operator answers yes", async () => {
    const ask = async (answer: string, kh: string) => {
      // `script` gives the CLI a real pseudo-terminal; the answer is typed on it.
      const cmd = [process.execPath, cli, "probe", "-i", inventory, "plain-01", "--known-hosts", kh].map((a) => `'${a}'`).join(" ");
      const child = execFile("script", ["-q", "-e", "-c", cmd, "/dev/null"], { env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 });
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("[y/N]")) child.stdin!.write(answer + "\n");
      });
      const code: number = await new Promise((r) => child.on("close", (c) => r(c ?? 1)));
      return { code, out };
    };
    const no = await ask("n", join(work, "kh-tty-no"));
    expect(no.out).toContain(lab.host("plain-01").hostKeyFingerprint);
    expect(no.code).toBe(1);
    const yes = await ask("y", join(work, "kh-tty-yes"));
    expect(yes.code).toBe(0);
    expect(yes.out).toMatch(/plain-01 {2}OK/);
    expect(await readFile(join(work, "kh-tty-yes"), "utf8")).toContain(lab.host("plain-01").address);
  });

  it("prints one readable block per host in table mode", async () => {
    const r = await omstack(["probe", "-i", inventory, "h100-ib", "cpu-hdd", "--known-hosts", lab.knownHostsFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^h100-ib {2}OK/m);
    expect(r.stdout).toMatch(/GPUs +\d+ x .*H100/);
    expect(r.stdout).toMatch(/RDMA +\S+\/\d+ IB/);
    expect(r.stdout).toMatch(/^cpu-hdd {2}OK/m);
    expect(r.stdout).toContain("2 host(s) probed");
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it("reaches a host through a bastion (jump host), and names the bastion when it fails", async () => {
    const via = lab.host("plain-01");
    const target = lab.host("plain-02");
    const down = lab.host("down-01");
    const inv = join(work, "bastion.yaml");
    await writeFile(
      inv,
      [
        "hosts:",
        `  - {name: behind-01, address: ${target.address}, port: ${target.port}, identityFile: ${lab.identityFile}, bastion: {address: ${via.address}, port: ${via.port}, identityFile: ${lab.identityFile}}}`,
        `  - {name: behind-02, address: ${target.address}, port: ${target.port}, identityFile: ${lab.identityFile}, bastion: {address: ${down.address}, port: ${down.port}, identityFile: ${lab.identityFile}}}`,
      ].join("\n") + "\n",
    );
    const r = await omstack(["probe", "-i", inv, "--known-hosts", lab.knownHostsFile, "-o", "json", "--connect-timeout", "3"]);
    expect(r.code).toBe(1);
    const [ok, bad] = (JSON.parse(r.stdout) as { hosts: HostFacts[] }).hosts;
    expect(ok!.reachable, ok!.error ?? "").toBe(true);
    expect(hardwareOnly(ok!)).toEqual(hardwareOnly(parseCaptures("behind-01", await readCaptureDir(join(repo, "tests/fixtures/hosts/h100-ib")))));
    expect(bad).toMatchObject({ reachable: false, errorCode: "E_SSH_BASTION" });
    expect(bad!.error).toContain(`bastion ${down.address}`);
  });

  it("runs the probe through sudo for a non-root user (passwordless, and with the password asked once)", async () => {
    const target = lab.host("plain-01");
    const asRoot = (cmd: string) => new Promise<void>((ok, fail) => execFile("ssh", [...lab.sshArgs("plain-01"), cmd], (e, _o, err) => (e ? fail(new Error(`${cmd}: ${err}`)) : ok())));
    // Real accounts on the host (its overlay root): ops has NOPASSWD sudo, dev needs its password.
    await asRoot("id ops >/dev/null 2>&1 || useradd -m -s /bin/bash -p '*' ops; id dev >/dev/null 2>&1 || useradd -m -s /bin/bash dev; echo 'dev:S3cret-pw' | chpasswd; mkdir -p /etc/sudoers.d; echo 'ops ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/ops; echo 'dev ALL=(ALL) ALL' > /etc/sudoers.d/dev; chmod 440 /etc/sudoers.d/ops /etc/sudoers.d/dev");
    // One inventory per account: an inventory refuses two hosts with the same address and port.
    const inventoryFor = async (name: string, user: string, sudo: string) => {
      const file = join(work, `sudo-${name}.yaml`);
      await writeFile(file, `hosts:\n  - {name: ${name}, address: ${target.address}, port: ${target.port}, user: ${user}, identityFile: ${lab.identityFile}, sudo: ${sudo}}\n`);
      return file;
    };
    const kh = lab.knownHostsFile;
    const ok = await omstack(["probe", "-i", await inventoryFor("ops-nopasswd", "ops", "true"), "--known-hosts", kh, "-o", "json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const facts = (JSON.parse(ok.stdout) as { hosts: HostFacts[] }).hosts[0]!;
    expect(facts.cpu).toEqual(by12("plain-01").cpu);

    const asked = await omstackWithStdin(["probe", "-i", await inventoryFor("dev-asked", "dev", "{password: ask}"), "--known-hosts", kh, "-o", "json", "--password-stdin"], "S3cret-pw\n");
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout + asked.stderr).not.toContain("S3cret-pw");

    const refused = await omstack(["probe", "-i", await inventoryFor("dev-nopasswd", "dev", "true"), "--known-hosts", kh, "-o", "json"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("E_SUDO");
    expect(refused.stderr).toContain("sudo: {password: ask}");
  });

  it("rejects bad usage with exit 2 before contacting any host", async () => {
    const bad = await omstack(["probe", "-i", inventory, "no-such-host", "--known-hosts", lab.knownHostsFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("E_HOST_UNKNOWN");
    const badFlag = await omstack(["probe", "-i", inventory, "--concurrency", "0"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("--concurrency must be a whole number");
    const badInv = join(work, "bad.yaml");
    await writeFile(badInv, "hosts:\n  - name: x\n    address: 10.0.0.1\n    port: 99999\n");
    const inv = await omstack(["probe", "-i", badInv]);
    expect(inv.code).toBe(2);
    expect(inv.stderr).toContain(`${badInv}:4:11`);
  });
});
