// The wizard in a real terminal: `omstack install -c omstack.yaml --dry-run` runs inside tmux (80×24) against two SSH
// test hosts; keys go in with `tmux send-keys`, the screen comes back with `tmux capture-pane`. Walks Welcome → Done,
// bypassing the failing checks explicitly, saves every screen under tests/.run/tui-tmux/, then repeats the saved
// answers with `-c … --yes` (no terminal) and expects the same dry run.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { cliPath, omstack, repoRoot } from "../integration/run-cli.js";

const run = promisify(execFile);
const screensDir = join(repoRoot, "tests/.run/tui-tmux");
/** A private tmux server, so the test never touches anyone else's sessions. */
const socket = `omstack-tui-${process.pid}`;
const session = "wizard";
const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args], { timeout: 10_000 });
const capture = async () => (await tmux("capture-pane", "-p", "-t", session)).stdout;
/** Keys as tmux names them (Enter, Up, BSpace) or literal text with literal=true. */
const send = (keys: string[], literal = false) => tmux("send-keys", "-t", session, ...(literal ? ["-l"] : []), ...keys);
const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Polls the pane until `want` holds; the deadline is generous (a loaded 2-core machine), never a fixed sleep. */
async function waitScreen(want: (screen: string) => boolean, what: string, deadlineMs = 60_000): Promise<string> {
  const until = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < until) {
    last = await capture();
    if (want(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`tmux: waited ${deadlineMs / 1000} s for ${what}; the screen shows:\n${last}`);
}

describe("the wizard in tmux against SSH test hosts", () => {
  let lab: TestLab;
  let work: string;
  let configFile: string;
  let stateDir: string;
  const shots: [string, string][] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "omstack-tui-tmux-"));
    // no profile: both hosts show this machine's own hardware
    lab = await startTestHosts([{ name: "node-01" }, { name: "node-02" }], { runDir: work });
    configFile = join(work, "omstack.yaml");
    stateDir = join(work, "state");
    await lab.writeInventory(configFile);
    await writeFile(configFile, (await readFile(configFile, "utf8")) + `cluster:\n  name: lab\n  stateDir: ${stateDir}\n`, { mode: 0o600 });
    await rm(screensDir, { recursive: true, force: true });
    await mkdir(screensDir, { recursive: true });
  });

  afterAll(async () => {
    await lab?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("walks Welcome → Hosts → Probe → Preflight (bypass) → Plan → dry-run Install → Done; -c --yes repeats it", async () => {
    const shot = async (name: string, screen: string) => {
      shots.push([name, screen]);
      await writeFile(join(screensDir, `${String(shots.length).padStart(2, "0")}-${name}.txt`), screen);
      for (const line of screen.split("\n")) expect([...line].length, `${name}: ${line}`).toBeLessThanOrEqual(80);
    };
    const cmd = [process.execPath, cliPath, "install", "-c", configFile, "--known-hosts", lab.knownHostsFile, "--state-dir", stateDir, "--dry-run"].map(shq).join(" ");
    const bypassed: string[] = [];
    const env = "env LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1 TERM=xterm-256color";
    try {
      await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", `${env} ${cmd}; echo "omstack exited: $?"; sleep 600`);

      // 1. Welcome: the cluster name comes from omstack.yaml
      let s = await waitScreen((x) => x.includes("step 1/7: Welcome") && x.includes("Cluster name: lab"), "the Welcome screen");
      expect(s).toContain(`State directory: ${stateDir}`);
      expect(s).toContain("Bundle: none given");
      await shot("welcome", s);
      await send(["Enter"]);

      // 2. Hosts: both hosts loaded from the file; the SSH settings keep the file's key
      s = await waitScreen((x) => x.includes("step 2/7: Hosts") && x.includes("[2 so far]"), "the Hosts screen");
      expect(s).toMatch(/node-01\s+198\.18\.\d+\.\d+\s+root\s+key /);
      expect(s).toMatch(/node-02\s+198\.18\.\d+\.\d+\s+root\s+key /);
      await shot("hosts", s);
      await send(["Enter"]);
      s = await waitScreen((x) => x.includes("SSH user for all hosts: root"), "the SSH user prompt");
      await send(["Enter"]);
      s = await waitScreen((x) => x.includes("How does root log in?"), "the login choice");
      await shot("hosts-login", s);
      await send(["Enter"]);
      s = await waitScreen((x) => x.includes("Private key file: ") && x.includes(lab.identityFile.slice(-20)), "the key file prompt");
      await send(["Enter"]);
      s = await waitScreen((x) => x.includes("Bastion (jump host): "), "the bastion prompt");
      await send(["Enter"]);

      // 3. Probe: both hosts answer over SSH
      s = await waitScreen((x) => x.includes("all 2 hosts answered"), "both hosts probed", 120_000);
      expect(s).toContain("step 3/7: Probe");
      expect(s).toMatch(/node-01\s+✓/);
      expect(s).toMatch(/node-02\s+✓/);
      await shot("probe", s);
      await send(["Enter"]);

      // 4. Preflight: bypass every failing check explicitly (b, then y), one at a time
      s = await waitScreen((x) => x.includes("step 4/7: Preflight") && /\d+ failing/.test(x), "the Preflight screen");
      await shot("preflight", s);
      const failing = (x: string) => Number(/(\d+) failing/.exec(x)?.[1] ?? "NaN");
      expect(failing(s), "the test hosts fail some checks (no GPU, small disks)").toBeGreaterThan(0);
      for (let round = 0; failing(s) > 0; round++) {
        expect(round, "bypass rounds").toBeLessThan(40);
        const before = failing(s);
        for (let i = 0; i < 30; i++) await send(["Up"]);
        await send(["b"], true);
        s = await waitScreen((x) => /Bypass \S+ on every host \(recorded\)\? y = bypass/.test(x), "the bypass confirmation");
        bypassed.push(/Bypass (\S+) on every host/.exec(s)![1]!);
        if (round === 0) await shot("preflight-bypass-confirm", s);
        await send(["y"], true);
        s = await waitScreen((x) => failing(x) < before, "fewer failing checks");
      }
      // each bypass covers its check on every host where it fails
      expect(Number(/0 failing ─ (\d+) bypassed/.exec(s)?.[1])).toBeGreaterThanOrEqual(bypassed.length);
      expect(s).toContain(`⤼      [`);
      await shot("preflight-bypassed", s);
      await send(["Enter"]);

      // 5. Plan review: the bypasses are in the plan
      s = await waitScreen((x) => x.includes("step 5/7: Plan") && x.includes("Cluster lab: 2 nodes"), "the Plan screen");
      expect(s).toContain(`Bypassed checks: ${bypassed.slice().sort()[0]}`);
      await shot("plan", s);
      await send(["Enter"]);

      // 6. Install (dry run) through the real step engine
      s = await waitScreen((x) => x.includes("step 6/7: Install") && x.includes("Dry run finished"), "the dry run to finish", 120_000);
      expect(s).toContain("[DRY RUN: nothing is changed]");
      expect(s).toMatch(/node-01\s+[~–·✓]+/);
      expect(s).toMatch(/node-02\s+[~–·✓]+/);
      await shot("install", s);
      await send(["Enter"]);

      // 7. Done
      s = await waitScreen((x) => x.includes("step 7/7: Done"), "the Done screen");
      expect(s).toContain("Dry run finished: nothing was changed");
      expect(s).toContain("A real run would produce:");
      // no bundle: host preparation only, so neither a console nor a kubeconfig is promised
      expect(s).toContain("no bundle: host preparation only");
      expect(s).not.toContain("Admin console:");
      await shot("done", s);
      await send(["Enter"]);
      s = await waitScreen((x) => x.includes("omstack exited:"), "the command to exit");
      expect(s).toMatch(/^dry-run: nothing was changed\. Answers saved to /m);
      expect(s).toContain("omstack exited: 0");
      await shot("exit", s);
    } finally {
      await tmux("kill-session", "-t", session).catch(() => undefined);
      await tmux("kill-server").catch(() => undefined);
    }

    // The answers were saved (0600, no secrets) with the bypasses recorded; nothing was installed or journaled.
    const saved = parseYaml(await readFile(configFile, "utf8")) as { cluster: { name: string; bypassChecks: string[] }; hosts: { name: string }[] };
    expect(saved.cluster.name).toBe("lab");
    expect(saved.hosts.map((h) => h.name)).toEqual(["node-01", "node-02"]);
    expect(saved.cluster.bypassChecks).toEqual([...new Set(bypassed)].sort());
    for (const h of lab.hosts) expect(await readFile(join(h.rootDir, "etc/sysctl.d/90-omstack.conf"), "utf8").catch(() => null)).toBeNull();

    // The same install without questions: the saved file alone passes preflight and dry-runs the same steps.
    const again = await omstack(["install", "-c", configFile, "--yes", "--known-hosts", lab.knownHostsFile, "--dry-run"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/node-01: host\.sysctls: would apply/);
    expect(again.stderr).toMatch(/node-02: host\.sysctls: would apply/);
    expect(again.stdout).toContain("dry-run: nothing was changed");
  }, 400_000);

  it("Ctrl-C on Welcome leaves cleanly: the terminal is given back, nothing is saved", async () => {
    const fresh = join(work, "new", "omstack.yaml");
    await mkdir(join(work, "new"));
    const cmd = [process.execPath, cliPath, "install", "-c", fresh, "--state-dir", join(work, "state-new"), "--ascii", "--dry-run"].map(shq).join(" ");
    try {
      await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", `env LANG=C.UTF-8 NO_COLOR=1 ${cmd}; echo "omstack exited: $?"; sleep 600`);
      const s = await waitScreen((x) => x.includes("step 1/7: Welcome") && x.includes("Cluster name: omstack"), "the Welcome screen");
      expect([...s].every((c) => c.charCodeAt(0) < 128), "--ascii draws ASCII only").toBe(true);
      await send(["C-c"]);
      const end = await waitScreen((x) => x.includes("omstack exited:"), "the command to exit");
      expect(end).toContain("cancelled at the welcome screen; nothing was changed");
      expect(end).toContain("omstack exited: 1");
      await writeFile(join(screensDir, "90-ctrl-c.txt"), end);
    } finally {
      await tmux("kill-session", "-t", session).catch(() => undefined);
      await tmux("kill-server").catch(() => undefined);
    }
    expect(await readFile(fresh, "utf8").catch(() => null)).toBeNull();
  }, 120_000);
});

describe("omstack install: bad input without a terminal", () => {
  it("refuses -c with -i, and names a missing -c file with its fix", async () => {
    const both = await omstack(["install", "-c", "a.yaml", "-i", "b.yaml", "--yes"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("-c and -i both name the hosts");
    const missing = await omstack(["install", "-c", join(tmpdir(), "omstack-no-such-dir", "omstack.yaml"), "--yes", "--dry-run"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("E_CONFIG_READ");
    expect(missing.stderr).toContain("no such file");
  });

  it("a -c file without cluster: is reported with its line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-tui-bad-"));
    const f = join(dir, "omstack.yaml");
    await writeFile(f, "hosts:\n  - name: n1\n    address: 127.0.0.1\n    agent: true\n", { mode: 0o600 });
    const r = await omstack(["install", "-c", f, "--yes", "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no `cluster:` section");
    await rm(dir, { recursive: true, force: true });
  });
});
