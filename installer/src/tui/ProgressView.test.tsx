import { describe, expect, it } from "vitest";
import { applyTimedEvent, initialProgress, type InstallEvent, type InstallProgress } from "./installEvents.js";
import { formatElapsed } from "./progressGrid.js";
import { ProgressView } from "./ProgressView.js";
import { isAscii, KEY, press, renderAt, sizeProblems, waitFor } from "./testing.js";

// the full install's step count, so the grid is as wide as a real run's
const steps = Array.from({ length: 22 }, (_, i) => ({ id: `step.${String(i + 1).padStart(2, "0")}`, title: `Step number ${i + 1}` }));
const T0 = 1_000_000;

/** Folds events given as [seconds after T0, event]. */
function fold(hosts: string[], events: [number, InstallEvent][]): InstallProgress {
  return events.reduce((p, [s, e]) => applyTimedEvent(p, { e, at: T0 + s * 1000 }), initialProgress(hosts));
}

const started = (stepId: string, host: string): InstallEvent => ({ type: "step-started", stepId, title: steps.find((s) => s.id === stepId)!.title, host });
const verified = (stepId: string, host: string): InstallEvent => ({ type: "step-verified", stepId, host, durationMs: 1000 });

function view(progress: InstallProgress, over: { stopping?: boolean; now?: number; logTail?: (p: string, n: number) => string[]; onInterrupt?: () => void } = {}) {
  return (
    <ProgressView
      progress={progress}
      stopping={over.stopping ?? false}
      logPath="/var/log/omstack/omstack-install-1.log"
      onInterrupt={over.onInterrupt ?? (() => undefined)}
      clock={() => over.now ?? T0 + 75_000}
      {...(over.logTail ? { logTail: over.logTail } : {})}
    />
  );
}

describe("ProgressView", () => {
  it("a finished install whose control-plane steps ran on one host: the others show blank cells and done", async () => {
    const hosts = ["cp-01", "w-01"];
    const two = steps.slice(0, 2);
    const p = fold(hosts, [
      [0, { type: "run-started", dryRun: false, steps: two }],
      [1, verified("step.01", "cp-01")],
      [1, verified("step.01", "w-01")],
      [2, verified("step.02", "cp-01")],
      [3, { type: "run-finished", status: "succeeded", durationMs: 3000 }],
    ]);
    const r = renderAt(view(p));
    const f = await waitFor(r.lastFrame, (x) => x.includes("finished in 3 s"));
    expect(f).toContain("3/3 step-host pairs done");
    expect(f).toMatch(/^cp-01 +✓✓ +✓ done$/m);
    expect(f).toMatch(/^w-01 +✓  +✓ done$/m);
    expect(f).not.toContain("waiting");
  });

  it("draws steps x hosts with each host's state, the running step and elapsed times, within 80x23", async () => {
    const p = fold(["cp-01", "gpu-01", "gpu-02"], [
      [0, { type: "run-started", dryRun: false, steps, logDir: "/var/lib/omstack/logs/run-7" }],
      ...(["cp-01", "gpu-01", "gpu-02"] as const).flatMap((h) => [[1, started("step.01", h)], [2, verified("step.01", h)]] as [number, InstallEvent][]),
      [3, started("step.02", "cp-01")],
      [4, verified("step.02", "cp-01")],
      [5, started("step.02", "gpu-01")],
      [62, started("step.02", "gpu-02")],
    ]);
    const r = renderAt(view(p));
    const f = await waitFor(r.lastFrame, (x) => x.includes("Now:"));
    expect(f).toContain("OMStack install ─ 3 hosts, 22 steps");
    expect(f).toContain("Now: Step number 2 on gpu-01 (+1 more)");
    expect(f).toContain("4/66 step-host pairs done; steps 1-22 of 22; elapsed 1m 15s\n");
    expect(f).toMatch(/^host {4}1234567890123456789012 {2}state$/m);
    expect(f).toMatch(/^cp-01 {3}✓✓···················· {2}waiting$/m);
    expect(f).toMatch(/^gpu-01 {2}✓▶···················· {2}▶ Step number 2 1m 10s$/m);
    expect(f).toMatch(/^gpu-02 {2}✓▶···················· {2}▶ Step number 2 13 s$/m);
    expect(f).toContain("log: /var/log/omstack/omstack-install-1.log");
    expect(f).toContain("host logs: /var/lib/omstack/logs/run-7");
    expect(f).toContain("Ctrl-C: stop after the running steps (the install stays resumable)");
    expect(sizeProblems(f, 80, 23)).toEqual([]);
  });

  it("shows a failing host's error, fix and last log lines (its output, else its log file), and the finished state", async () => {
    const base: [number, InstallEvent][] = [
      [0, { type: "run-started", dryRun: false, steps: steps.slice(0, 3), logDir: null }],
      [1, started("step.01", "n1")],
      [2, verified("step.01", "n1")],
      [2, started("step.01", "n2")],
    ];
    const failWith = (outputTail: string | null): InstallEvent => ({
      type: "step-failed",
      stepId: "step.01",
      host: "n2",
      error: { code: "E_COMMAND_FAILED", message: "swapoff -a exited 1", remedy: "turn swap off by hand and remove it from /etc/fstab", outputTail },
      logPath: "/var/lib/omstack/logs/run-8/n2.log",
    });
    const end: [number, InstallEvent][] = [
      [4, { type: "step-blocked", stepId: "step.02", host: "n2", reason: "an earlier step failed on n2" }],
      [5, { type: "run-finished", status: "failed", durationMs: 5000 }],
    ];
    let r = renderAt(view(fold(["n1", "n2"], [...base, [3, failWith("swapoff: /swap.img: Operation not permitted\nline two of output")], ...end])));
    let f = await waitFor(r.lastFrame, (x) => x.includes("Install failed"));
    expect(f).toContain("Install failed: 1 step(s) failed");
    expect(f).toMatch(/^n2 {6}✗#· {2}✗ FAILED step\.01$/m);
    expect(f).toContain("n2: step.01: swapoff -a exited 1 [E_COMMAND_FAILED]");
    expect(f).toContain("  fix: turn swap off by hand and remove it from /etc/fstab");
    expect(f).toContain("  | swapoff: /swap.img: Operation not permitted");
    expect(f).toContain("  | line two of output");
    expect(f).toContain("  log: /var/lib/omstack/logs/run-8/n2.log");
    expect(f).toContain("elapsed 5 s");
    expect(f).not.toContain("Ctrl-C");

    // no command output: the host log's last lines, read through the injected reader, timestamps stripped
    const asked: string[] = [];
    const log = ["2026-01-05T10:00:01.123Z [step.01] $ swapoff -a", "2026-01-05T10:00:01.456Z [step.01] exit 1", "2026-01-05T10:00:01.500Z [host-lock] rm -rf /var/lib/omstack/lock"];
    const logTail = (path: string, n: number) => (asked.push(path), log.slice(-n));
    r = renderAt(view(fold(["n1", "n2"], [...base, [3, failWith(null)], ...end]), { logTail }));
    f = await waitFor(r.lastFrame, (x) => x.includes("Install failed"));
    expect(asked).toContain("/var/lib/omstack/logs/run-8/n2.log");
    expect(f).toContain("  | $ swapoff -a\n");
    expect(f).toContain("  | exit 1\n");
    expect(f).not.toContain("host-lock");
  });

  it("many hosts: the failing and running ones come first, the rest is counted, and it still fits 80x24 (ASCII too)", async () => {
    const hosts = Array.from({ length: 40 }, (_, i) => `node-${String(i + 1).padStart(2, "0")}`);
    const events: [number, InstallEvent][] = [[0, { type: "run-started", dryRun: false, steps, logDir: null }]];
    for (const h of hosts.slice(0, 30)) events.push([1, started("step.01", h)], [2, verified("step.01", h)]);
    events.push([3, started("step.02", "node-39")]);
    events.push([3, started("step.01", "node-40")], [4, { type: "step-failed", stepId: "step.01", host: "node-40", error: { code: "E_X", message: "broke", remedy: null, outputTail: "why" }, logPath: "/l/node-40.log" }]);
    for (const ascii of [false, true]) {
      const r = renderAt(view(fold(hosts, events)), { ascii });
      const f = await waitFor(r.lastFrame, (x) => x.includes("more hosts"));
      const rows = f.split("\n").filter((l) => /^node-\d\d /.test(l));
      expect(rows[0]).toMatch(/^node-40 /);
      expect(rows[1]).toMatch(/^node-39 /);
      expect(f).toMatch(/\.\.\. \d+ more hosts \(\d+ done\)/);
      expect(sizeProblems(f, 80, 23)).toEqual([]);
      if (ascii) expect(isAscii(f)).toBe(true);
    }
  });

  it("Ctrl-C asks the caller to stop; while stopping the headline and hint say what happens", async () => {
    let interrupts = 0;
    const p = fold(["n1"], [[0, { type: "run-started", dryRun: false, steps, logDir: null }], [1, started("step.01", "n1")]]);
    const r = renderAt(view(p, { onInterrupt: () => interrupts++ }));
    await press(r.stdin, KEY.ctrlC);
    expect(interrupts).toBe(1);
    r.rerender(view(p, { stopping: true, onInterrupt: () => interrupts++ }));
    const f = await waitFor(r.lastFrame, (x) => x.includes("Stopping"));
    expect(f).toContain("Stopping: 1 running step(s) finish first, nothing new starts");
    expect(f).toContain("Ctrl-C again quits at once");
  });

  it("formats elapsed time as an operator reads it", () => {
    expect([0, 8_400, 65_000, 3_725_000].map(formatElapsed)).toEqual(["0 s", "8 s", "1m 05s", "1h 02m"]);
  });
});
