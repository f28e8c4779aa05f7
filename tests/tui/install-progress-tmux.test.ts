// The live progress of `omstack install -i inventory --yes` in a real terminal: tmux (80×24) runs the built CLI against
// SSH test hosts (host preparation only: no bundle). Ctrl-C during a slow step stops the run after the running steps
// (exit 1, resumable), the next run finishes it; a failing host shows its error and output in the view and in full
// after it; a non-UTF-8 locale draws ASCII only. Every screen is saved under tests/.run/tui-progress/.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { cliPath, omstack, repoRoot } from "../integration/run-cli.js";

const run = promisify(execFile);
const screensDir = join(repoRoot, "tests/.run/tui-progress");
/** A private tmux server, so the test never touches anyone else's sessions. */
const socket = `omstack-progress-${process.pid}`;
/** The current session; each command gets a new one (killing a server's last session would race its exit). */
let session = "install-0";
let sessions = 0;
const tmux = (...args: string[]) => run("tmux", ["-L", socket, ...args], { timeout: 10_000 });
/** The visible screen, or with `history` the scrollback too (what scrolled off above the view). */
const capture = async (history = false) => (await tmux("capture-pane", "-p", "-t", session, ...(history ? ["-S", "-200"] : []))).stdout;
const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Polls the pane until `want` holds; generous deadline for a loaded 2-core machine, never a fixed sleep. */
async function waitScreen(want: (screen: string) => boolean, what: string, deadlineMs = 120_000, history = false): Promise<string> {
  const until = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < until) {
    last = await capture(history);
    if (want(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`tmux: waited ${deadlineMs / 1000} s for ${what}; the screen shows:\n${last}`);
}

/** Runs argv in a fresh 80×24 tmux session; the shell prints the exit status and waits. */
async function startInTmux(env: string, argv: string[], after = ""): Promise<void> {
  const previous = sessions > 0 ? session : null;
  session = `install-${++sessions}`;
  const cmd = [process.execPath, cliPath, ...argv].map(shq).join(" ");
  await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", `env ${env} ${cmd}; echo "omstack exited: $?"; ${after} sleep 600`);
  if (previous) await tmux("kill-session", "-t", previous).catch(() => undefined);
}

const exitOf = (s: string) => Number(/omstack exited: (\d+)/.exec(s)?.[1] ?? "NaN");

describe("omstack install --yes: the live progress view in tmux against SSH test hosts", () => {
  let lab: TestLab;
  let work: string;
  let inventory: string;
  let common: string[];
  let n = 0;
  const shot = async (name: string, screen: string) => {
    await writeFile(join(screensDir, `${String(++n).padStart(2, "0")}-${name}.txt`), screen);
    const lines = screen.replace(/\n+$/, "").split("\n");
    for (const line of lines) expect([...line].length, `${name}: ${line}`).toBeLessThanOrEqual(80);
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "omstack-progress-tmux-"));
    // node-01/02 show this machine's own hardware; swap-01's captured /proc/swaps lists a swap device a test host
    // cannot turn off: a real, reproducible step failure
    lab = await startTestHosts([{ name: "node-01" }, { name: "node-02" }, { name: "swap-01", profile: "cpu-hdd" }], { runDir: work });
    inventory = join(work, "inventory.yaml");
    await lab.writeInventory(inventory);
    // writing the sysctl file takes 8 s on node-01/02 (a chmod shim before /usr/bin in root's PATH, slow only for that
    // file): host.sysctls is surely running when Ctrl-C is pressed
    // (written over SSH: the host's overlay may not see files put into its upper dir from outside)
    const shim = '#!/bin/sh\ncase "$*" in *90-omstack.conf.omstack-tmp*) sleep 8 ;; esac\nexec /usr/bin/chmod "$@"\n';
    for (const h of lab.hosts.filter((x) => x.name !== "swap-01")) {
      await run("ssh", lab.sshArgs(h.name, [`mkdir -p /usr/local/bin && printf '%s' ${shq(shim)} > /usr/local/bin/chmod && /usr/bin/chmod 755 /usr/local/bin/chmod && command -v chmod`]), { timeout: 30_000 }).then((r) =>
        expect(r.stdout.trim(), `${h.name}: the chmod shim comes first in PATH`).toBe("/usr/local/bin/chmod"),
      );
    }
    const pre = await omstack(["preflight", "-i", inventory, "--known-hosts", lab.knownHostsFile, "-o", "json"]);
    const failing = [...new Set((JSON.parse(pre.stdout) as { outcomes: { checkId: string; status: string }[] }).outcomes.filter((o) => o.status === "fail").map((o) => o.checkId))];
    common = ["-i", inventory, "--known-hosts", lab.knownHostsFile, ...failing.flatMap((id) => ["--ignore", id])];
    await rm(screensDir, { recursive: true, force: true });
    await mkdir(screensDir, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await tmux("kill-server").catch(() => undefined);
    await lab?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("draws steps x hosts live; Ctrl-C stops after the running step (exit 1, resumable); the next run finishes", async () => {
    const state = join(work, "state-ok");
    const args = ["install", "node-01", "node-02", ...common, "--state-dir", state, "--yes"];
    await startInTmux("LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1 TERM=xterm-256color", args);

    // the view, with host.sysctls (step 3) running on both hosts
    let s = await waitScreen((x) => /node-01 +✓✓▶··/.test(x) && /node-02 +✓✓▶··/.test(x), "host.sysctls running on both hosts");
    expect(s).toContain("OMStack install ─ 2 hosts, 5 steps");
    expect(s).toMatch(/Now: \S.* on node-0[12] \(\+1 more\)/);
    expect(s).toMatch(/^host {5}12345 {2}state$/m);
    expect(s).toMatch(/node-01 +✓✓▶·· +▶ .+ \d+ s$/m);
    expect(s).toMatch(/elapsed \d+ s/);
    expect(s).toContain("Ctrl-C: stop after the running steps (the install stays resumable)");
    const history = await capture(true);
    expect(history).toContain("no bundle given (--bundle or cluster.bundle): only host preparation runs");
    await shot("running", s);
    // the clock ticks while the step runs (the view redraws every second)
    s = await waitScreen((x) => /^node-01 +✓✓▶·· +▶ .+ [3-7] s$/m.test(x), "the running step's elapsed time to reach 3 s", 20_000);
    expect(Number(/elapsed (\d+) s/.exec(s)?.[1])).toBeGreaterThanOrEqual(3);
    await shot("running-elapsed", s);

    await tmux("send-keys", "-t", session, "C-c");
    s = await waitScreen((x) => x.includes("Stopping: 2 running step(s) finish first, nothing new starts"), "the stopping headline", 10_000);
    expect(s).toContain("Ctrl-C again quits at once");
    await shot("stopping", s);

    s = await waitScreen((x) => x.includes("omstack exited:"), "the interrupted run to exit");
    expect(exitOf(s), s).toBe(1);
    expect(s).toContain("Install stopped before every step ran (resumable)");
    // the running step was let finish (the shim's 8 s), not cut short
    expect(Number(/elapsed (\d+) s/.exec(s)?.[1])).toBeGreaterThanOrEqual(8);
    expect(s).toMatch(/node-01 +✓✓✓·· +waiting/);
    expect(s).toContain("E_INSTALL_INTERRUPTED");
    expect(s).toContain("run the same command again: it continues where it stopped");
    await shot("interrupted", s);
    // the running step finished (its file is there); nothing after it started
    for (const h of lab.hosts.filter((x) => x.name !== "swap-01")) {
      expect(await readFile(join(h.rootDir, "etc/sysctl.d/90-omstack.conf"), "utf8")).toContain("net.ipv4.ip_forward");
      expect(existsSync(join(h.rootDir, "etc/containerd/config.toml")), `${h.name}: containerd config written after Ctrl-C`).toBe(false);
    }

    // the same command again: finished steps are checked and skipped, the rest runs
    await startInTmux("LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1 TERM=xterm-256color", args);
    s = await waitScreen((x) => x.includes("omstack exited:"), "the resumed run to exit", 180_000);
    expect(exitOf(s), s).toBe(0);
    expect(s).toMatch(/Install finished in \d+/);
    expect(s).toMatch(/^node-01 +–––✓✓ +✓ done$/m);
    expect(s).toMatch(/^node-02 +–––✓✓ +✓ done$/m);
    expect(s).toMatch(/install run \d+ succeeded; journal in /);
    expect(s).not.toContain("Ctrl-C:");
    await shot("resumed-done", s);
  }, 400_000);

  it("a failing host: its error, fix and output in the view, the full report after it; ASCII only in a C locale", async () => {
    const state = join(work, "state-fail");
    await startInTmux("LANG=C LC_ALL=C TERM=xterm-256color", ["install", "swap-01", ...common, "--state-dir", state, "--yes"]);
    const screen = await waitScreen((x) => x.includes("omstack exited:"), "the failing run to exit");
    await shot("failed-ascii", screen);
    // the view's last frame and the report after it (more than one screen: read the scrollback too)
    const s = await capture(true);
    await writeFile(join(screensDir, "failed-ascii-scrollback.txt"), s);
    expect(exitOf(s), s).toBe(1);
    expect([...s].every((c) => c.charCodeAt(0) < 128), "a C locale draws ASCII only").toBe(true);
    expect(s).toContain("Install failed: 1 step(s) failed");
    expect(s).toMatch(/^swap-01 +X#### +X FAILED host\.swap-off$/m);
    expect(s).toMatch(/^swap-01: host\.swap-off: `swapoff -a` exited with status \d+/m);
    // the failing step's own last log lines (the command had no output)
    expect(s).toMatch(/^ {2}\| \$ swapoff -a$/m);
    expect(s).toMatch(/log: \S+swap-01\.log/);
    // after the view: the failure in full, as the plain lines print it, then the error
    expect(s).toMatch(/swap-01: {3}command: swapoff -a \(exit status \d+\)/);
    expect(s).toContain("E_INSTALL_FAILED");
  }, 200_000);

  it("a line written to stderr while the view is up (the admin password shown once) stays above the view, once", async () => {
    // the built module, driven by a script: the view, a secret line mid-run (as showOnce writes it), more redraws
    const script = [
      `import { startProgress } from ${JSON.stringify(join(repoRoot, "installer/dist/cli/progress.js"))};`,
      `const p = await startProgress({ live: true, ascii: false, hosts: ["cp-01"], logPath: "/tmp/x.log", note: (l) => process.stderr.write(l + "\\n") });`,
      `const steps = [{ id: "admin.service", title: "Admin service" }, { id: "admin.journal-handoff", title: "Journal handoff" }];`,
      `const tick = () => new Promise((r) => setTimeout(r, 300));`,
      `p.onEvent({ type: "run-started", runId: 1, dryRun: false, steps, logDir: null }); await tick();`,
      `p.onEvent({ type: "step-started", stepId: "admin.service", title: "Admin service", host: "cp-01", attempt: 1, pending: "x", logPath: "/tmp/l" }); await tick();`,
      `process.stderr.write('admin console user "admin", password Sh0wn-0nce-Secret \\u2014 shown once\\n'); await tick();`,
      `for (const id of ["admin.service", "admin.journal-handoff"]) { p.onEvent({ type: "step-verified", stepId: id, host: "cp-01", durationMs: 5, logPath: "/tmp/l" }); await tick(); }`,
      `p.onEvent({ type: "run-finished", runId: 1, status: "succeeded", durationMs: 1500, failures: [] });`,
      `await p.close();`,
    ].join("\n");
    const file = join(work, "stderr-above.mjs");
    await writeFile(file, script);
    const previous = session;
    session = `install-${++sessions}`;
    await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", `env LANG=C.UTF-8 NO_COLOR=1 TERM=xterm-256color ${shq(process.execPath)} ${shq(file)}; echo "omstack exited: $?"; sleep 600`);
    await tmux("kill-session", "-t", previous).catch(() => undefined);
    const s = await waitScreen((x) => x.includes("omstack exited:"), "the script to exit", 30_000);
    expect(exitOf(s), s).toBe(0);
    expect(s.split("Sh0wn-0nce-Secret").length - 1, s).toBe(1);
    expect(s.indexOf("Sh0wn-0nce-Secret")).toBeLessThan(s.indexOf("OMStack install ─ 1 host, 2 steps"));
    expect(s).toMatch(/^cp-01 +✓✓ +✓ done$/m);
    await shot("stderr-above-view", s);
  }, 60_000);

  it("a second Ctrl-C quits at once (exit 130) and gives the terminal back", async () => {
    // host.sysctls must run again on node-01: remove its file over SSH (the chmod shim makes writing it slow)
    await run("ssh", lab.sshArgs("node-01", ["rm -f /etc/sysctl.d/90-omstack.conf"]), { timeout: 30_000 });
    await startInTmux("LANG=C.UTF-8 NO_COLOR=1 TERM=xterm-256color", ["install", "node-01", ...common, "--state-dir", join(work, "state-quit"), "--yes"], `stty -a | grep -q -- ' icanon' && echo "tty: cooked";`);
    await waitScreen((x) => /^node-01 +\S\S▶·· +▶ /m.test(x), "host.sysctls running on node-01");
    await tmux("send-keys", "-t", session, "C-c");
    await waitScreen((x) => x.includes("Ctrl-C again quits at once"), "the stopping hint", 10_000);
    await tmux("send-keys", "-t", session, "C-c");
    const s = await waitScreen((x) => x.includes("omstack exited:"), "the command to quit", 10_000);
    expect(exitOf(s), s).toBe(130);
    expect(await waitScreen((x) => x.includes("tty: cooked"), "the terminal back in cooked mode", 5_000)).toContain("tty: cooked");
    await shot("second-ctrl-c", s);
    // The killed run's remote script still runs on the host (the shim's sleep); its EXIT trap removes the fixed
    // `<file>.omstack-tmp` path, so a new run writing the same file meanwhile fails (reported to the executor's owner).
    // Wait until it is gone, then: like a crash, the same command takes over the dead run's host lock and finishes.
    const leftover = async () =>
      (await run("ssh", lab.sshArgs("node-01", ["pgrep -f '[9]0-omstack.conf.omstack-tmp' >/dev/null && echo busy || echo idle"]), { timeout: 30_000 })).stdout.trim();
    for (let until = Date.now() + 30_000; (await leftover()) === "busy"; ) {
      expect(Date.now(), "the killed run's remote script is still running after 30 s").toBeLessThan(until);
      await new Promise((r) => setTimeout(r, 250));
    }
    const again = await omstack(["install", "node-01", ...common, "--state-dir", join(work, "state-quit"), "--yes"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("took over the host lock");
  }, 200_000);

  it("a dry run on a terminal: the view, then every planned change per host in full", async () => {
    await startInTmux("LANG=C.UTF-8 NO_COLOR=1 TERM=xterm-256color", ["install", "node-02", ...common, "--state-dir", join(work, "state-dry"), "--yes", "--dry-run"]);
    await waitScreen((x) => x.includes("omstack exited:"), "the dry run to exit");
    const s = await capture(true);
    expect(exitOf(s), s).toBe(0);
    expect(s).toContain("OMStack install (dry run) ─ 1 host, 5 steps");
    expect(s).toContain("[DRY RUN: nothing is changed] Dry run finished");
    await writeFile(join(screensDir, "dry-run-scrollback.txt"), s);
    // each step's verdict on its own line after the view (would apply with what, or would skip with why)
    const planned = /^node-02: host\.sysctls: would (apply|skip)/m.exec(s);
    expect(planned, s).not.toBeNull();
    expect(planned!.index).toBeGreaterThan(s.indexOf("Dry run finished"));
    expect(s).toContain("dry-run: nothing was changed");
    await shot("dry-run", await capture());
  }, 200_000);

  it("--no-tui on a terminal prints one plain line per event", async () => {
    await startInTmux("LANG=C.UTF-8 NO_COLOR=1 TERM=xterm-256color", ["install", "node-01", ...common, "--state-dir", join(work, "state-ok"), "--yes", "--no-tui"]);
    const s = await waitScreen((x) => x.includes("omstack exited:"), "the plain run to exit");
    expect(exitOf(s), s).toBe(0);
    expect(s).toMatch(/^node-01: host\.sysctls: skipped/m);
    expect(s).not.toContain("OMStack install ─");
    await shot("no-tui", s);
  }, 200_000);
});
