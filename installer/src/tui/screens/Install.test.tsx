import { describe, expect, it } from "vitest";
import type { InstallEvent } from "../installEvents.js";
import { Install, type InstallOutcome, type InstallRunner } from "./Install.js";
import { isAscii, KEY, press, renderAt, sizeProblems, waitFor } from "../testing.js";

const steps = Array.from({ length: 12 }, (_, i) => ({ id: `step.${i + 1}`, title: `Step ${i + 1}` }));
const outcome: InstallOutcome = { consoleUrl: "https://10.0.0.11:9443", kubeconfigPath: "/var/lib/omstack/kubeconfig", adminUser: "admin", logPath: "/var/log/omstack/install.log" };

describe("Install", () => {
  it("draws steps x hosts, shows the failing host's error and log tail, and retries", async () => {
    const calls: boolean[] = [];
    const run: InstallRunner = async (opts, on) => {
      calls.push(opts.retry);
      on({ type: "run-started", dryRun: false, steps, logDir: "/var/log/omstack/run-4" });
      for (const s of steps) {
        for (const h of ["gpu-01", "gpu-02"]) {
          on({ type: "step-started", stepId: s.id, title: s.title, host: h });
          if (s.id === "step.5" && h === "gpu-02" && !opts.retry) {
            on({ type: "step-failed", stepId: s.id, host: h, error: { code: "E_COMMAND_FAILED", message: "modprobe br_netfilter exited 1", remedy: "install the kernel modules package", outputTail: "modprobe: FATAL: Module br_netfilter not found in directory /lib/modules/6.1.0" }, logPath: "/var/log/omstack/run-4/gpu-02.log" });
            on({ type: "run-finished", status: "failed", durationMs: 4000 });
            return outcome;
          }
          on({ type: "step-verified", stepId: s.id, host: h, durationMs: 10 } as InstallEvent);
        }
      }
      on({ type: "run-finished", status: "succeeded", durationMs: 9000 });
      return outcome;
    };
    const done: InstallOutcome[] = [];
    const r = renderAt(<Install hosts={["gpu-01", "gpu-02"]} run={run} signal={new AbortController().signal} onDone={(o) => done.push(o)} />);
    let f = await waitFor(r.lastFrame, (x) => x.includes("Install failed"));
    expect(f).toMatch(/gpu-02 +✓✓✓✓✗······· +✗ FAILED step\.5/);
    expect(f).toMatch(/gpu-01 +✓✓✓✓✓······· +waiting/);
    expect(f).toContain("Enter: summary");
    expect(f).toContain("gpu-02: step.5: modprobe br_netfilter exited 1 [E_COMMAND_FAILED]");
    expect(f).toContain("| modprobe: FATAL: Module br_netfilter not found");
    expect(f).toContain("log: /var/log/omstack/run-4/gpu-02.log");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, "r");
    f = await waitFor(r.lastFrame, (x) => x.includes("Install finished"));
    expect(calls).toEqual([false, true]);
    expect(f).toContain("24/24 step-host pairs done");
    await press(r.stdin, KEY.enter);
    expect(done).toEqual([outcome]);
  });

  it("a dry run is labelled and drawn in ASCII", async () => {
    const run: InstallRunner = async (_o, on) => {
      on({ type: "run-started", dryRun: true, steps, logDir: null });
      for (const s of steps) on({ type: "step-planned", stepId: s.id, host: "n1", willApply: s.id !== "step.2", reason: "r" });
      on({ type: "run-finished", status: "succeeded", durationMs: 5 });
      return outcome;
    };
    const r = renderAt(<Install hosts={["n1"]} run={run} signal={new AbortController().signal} onDone={() => undefined} />, { ascii: true });
    const f = await waitFor(r.lastFrame, (x) => x.includes("Dry run finished"));
    expect(f).toContain("[DRY RUN: nothing is changed]");
    expect(f).toMatch(/n1 +~-~~~~~~~~~~ +\+ planned/);
    expect(isAscii(f)).toBe(true);
  });
});
