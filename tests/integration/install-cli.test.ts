// `omstack install` end to end: probe → preflight → plan → host-preparation steps on real SSH test hosts, with
// dry-run (nothing changes), a real run (files land on each host's own root), and a re-run that skips what is done.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { omstack } from "./run-cli.js";

describe("omstack install (host preparation) over SSH", () => {
  let lab: TestLab;
  let work: string;
  let inventory: string;
  let common: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "omstack-install-it-"));
    // node-01/02 show this machine's own hardware (no swap); swap-01's real captured /proc/swaps lists a swap device
    // that a test host cannot turn off, which makes a real, reproducible step failure.
    lab = await startTestHosts([{ name: "node-01" }, { name: "node-02" }, { name: "swap-01", profile: "cpu-hdd" }], { runDir: work });
    inventory = join(work, "omstack.yaml");
    await lab.writeInventory(inventory);
    // Bypass, knowingly, what preflight fails on test hosts (e.g. the 3.8 GiB laptop profile of swap-01).
    const pre = await omstack(["preflight", "-i", inventory, "--known-hosts", lab.knownHostsFile, "-o", "json"]);
    const failing = [...new Set((JSON.parse(pre.stdout) as { outcomes: { checkId: string; status: string }[] }).outcomes.filter((o) => o.status === "fail").map((o) => o.checkId))];
    common = ["-i", inventory, "--known-hosts", lab.knownHostsFile, "--state-dir", join(work, "state"), ...failing.flatMap((id) => ["--ignore", id])];
  });

  afterAll(async () => {
    await lab?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("refuses to run while preflight fails, listing the checks; a dry run shows the failures and still describes the steps", async () => {
    const r = await omstack(["install", "-i", inventory, "--known-hosts", lab.knownHostsFile, "--state-dir", join(work, "state-refused"), "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("E_PREFLIGHT_FAILED");
    expect(existsSync(join(work, "state-refused", "install.db"))).toBe(false);
    for (const h of lab.hosts) expect(existsSync(join(h.rootDir, "etc/sysctl.d/90-omstack.conf"))).toBe(false);
    const dry = await omstack(["install", "-i", inventory, "--known-hosts", lab.knownHostsFile, "--state-dir", join(work, "state-refused"), "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain("dry-run: preflight FAILS — a real install stops here");
    expect(dry.stderr).toMatch(/host\.sysctls: would apply/);
    expect(dry.stdout).toMatch(/A real install would refuse: \d+ preflight check\(s\) fail/);
    expect(existsSync(join(work, "state-refused", "install.db"))).toBe(false);
  });

  it("--dry-run prints every change per host and changes nothing", async () => {
    const r = await omstack(["install", "node-01", "node-02", ...common, "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/node-01: host\.sysctls: would apply/);
    expect(r.stderr).toMatch(/node-02: host\.kernel-modules: would apply/);
    expect(r.stdout).toContain("dry-run: nothing was changed");
    for (const h of lab.hosts) expect(existsSync(join(h.rootDir, "etc/sysctl.d/90-omstack.conf"))).toBe(false);
    expect(existsSync(join(work, "state", "install.db"))).toBe(false);
  });

  it("installs, journals the run (0600), and a second run skips what is done", async () => {
    const first = await omstack(["install", "node-01", "node-02", ...common]);
    expect(first.code, first.stderr).toBe(0);
    for (const h of lab.hosts.filter((x) => x.name !== "swap-01")) {
      expect(await readFile(join(h.rootDir, "etc/modules-load.d/omstack.conf"), "utf8")).toContain("br_netfilter");
      expect(await readFile(join(h.rootDir, "etc/sysctl.d/90-omstack.conf"), "utf8")).toContain("net.ipv4.ip_forward");
    }
    expect((await stat(join(work, "state", "install.db"))).mode & 0o777).toBe(0o600);
    expect(first.stdout).toMatch(/install run \d+ succeeded/);

    const second = await omstack(["install", "node-01", "node-02", ...common]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/node-01: host\.sysctls: skipped/);
    expect(second.stderr).not.toMatch(/applied in/);
  });

  it("a failing step reports host, command, exit status and log; a re-run without --retry-failed refuses", async () => {
    const r = await omstack(["install", "swap-01", ...common]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("swap-01: host.swap-off: FAILED");
    expect(r.stderr).toMatch(/command: swapoff -a \(exit status \d+\)/);
    expect(r.stderr).toMatch(/swap-01: {3}log: \S+swap-01\.log/);
    expect(r.stderr).toContain("E_INSTALL_FAILED");
    expect(r.stderr).toMatch(/swap-01: host\.sysctls: not run/);
    const again = await omstack(["install", "swap-01", ...common]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("--retry-failed");
  });

  it("refuses a bundle signed by a key it does not trust, and one that is not a bundle, before touching any host", async () => {
    const keys = join(work, "keys");
    await mkdir(keys);
    for (const k of ["publisher", "stranger"]) expect((await omstack(["bundle", "keygen", "--out", join(keys, k)])).code).toBe(0);
    const built = await omstack(["bundle", "build", "--recipe", join(import.meta.dirname, "../../bundle/recipes/test.yaml"), "--key", join(keys, "publisher"), "--out", work]);
    expect(built.code, built.stderr).toBe(0);
    const bundle = join(work, "omstack-0.0.0-test-amd64.tar");
    const state = join(work, "state-untrusted");
    const r = await omstack(["install", "node-01", ...common.filter((a, i, all) => a !== "--state-dir" && all[i - 1] !== "--state-dir"), "--state-dir", state, "--bundle", bundle, "--trust", join(keys, "stranger.pub")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("E_BUNDLE_SIGNATURE");
    expect(existsSync(join(state, "install.db"))).toBe(false);
    expect(existsSync(join(state, "bundles"))).toBe(false);
    const bogus = join(work, "not-a-bundle.tar");
    await writeFile(bogus, "hello\n");
    const b = await omstack(["install", "node-01", ...common.filter((a, i, all) => a !== "--state-dir" && all[i - 1] !== "--state-dir"), "--state-dir", state, "--bundle", bogus, "--trust", join(keys, "publisher.pub")]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/E_BUNDLE_(MALFORMED|TRUNCATED)/);
    expect(existsSync(join(state, "install.db"))).toBe(false);
  });

  it("with no inventory installs on this machine alone (no SSH): a dry run probes it, plans it and changes nothing", async () => {
    const state = join(work, "state-local");
    const pre = await omstack(["preflight", "-o", "json"]);
    const failing = [...new Set((JSON.parse(pre.stdout) as { outcomes: { checkId: string; status: string }[] }).outcomes.filter((o) => o.status === "fail").map((o) => o.checkId))];
    const r = await omstack(["install", "--yes", "--dry-run", "--state-dir", state, ...failing.flatMap((id) => ["--ignore", id])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("installing on this machine alone");
    expect(r.stderr).toMatch(/host\.sysctls: (would apply|already done)/);
    expect(r.stderr).toContain("no bundle given");
    expect(r.stdout).toContain("dry-run: nothing was changed");
    expect(existsSync(join(state, "install.db"))).toBe(false);
    const named = await omstack(["install", "--yes", "--dry-run", "somehost"]);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain("host names need an inventory");
  });
});
