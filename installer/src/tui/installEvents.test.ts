import { describe, expect, it } from "vitest";
import type { ExecutorEvent } from "../executor/events.js";
import { applyInstallEvent, cellKey, hostState, initialProgress, pairCounts, type InstallEvent } from "./installEvents.js";

describe("applyInstallEvent", () => {
  it("tracks each step on each host, the running step, failures and the end", () => {
    const events: InstallEvent[] = [
      { type: "run-started", dryRun: false, steps: [{ id: "host.swap-off", title: "Turn swap off" }, { id: "host.sysctls", title: "Kernel settings" }], logDir: "/var/log/omstack/run-3" },
      { type: "step-started", stepId: "host.swap-off", title: "Turn swap off", host: "a" },
      { type: "step-skipped", stepId: "host.swap-off", host: "b", reason: "already done" },
      { type: "step-applied", stepId: "host.swap-off", host: "a", durationMs: 10 },
      { type: "step-verified", stepId: "host.swap-off", host: "a", durationMs: 12 },
      { type: "step-started", stepId: "host.sysctls", title: "Kernel settings", host: "a" },
      { type: "step-failed", stepId: "host.sysctls", host: "a", error: { code: "E_COMMAND_FAILED", message: "sysctl -p failed", remedy: "check /etc/sysctl.d", outputTail: "line1\nline2" }, logPath: "/l/a.log" },
      { type: "step-blocked", stepId: "host.sysctls", host: "b", reason: "a failed" },
      { type: "run-finished", status: "failed", durationMs: 900 },
    ];
    const p = events.reduce(applyInstallEvent, initialProgress(["a", "b"]));
    expect(p.cells[cellKey("host.swap-off", "a")]).toBe("done");
    expect(p.cells[cellKey("host.swap-off", "b")]).toBe("skipped");
    expect(p.cells[cellKey("host.sysctls", "a")]).toBe("failed");
    expect(p.cells[cellKey("host.sysctls", "b")]).toBe("blocked");
    expect(p.running).toEqual([]);
    expect(p.failures).toEqual([{ stepId: "host.sysctls", host: "a", error: expect.objectContaining({ outputTail: "line1\nline2" }), logPath: "/l/a.log" }]);
    expect(p.finished).toBe("failed");
    // a retry clears the failure once the step starts again, keeps done cells
    const q = [
      { type: "run-started", dryRun: false, steps: p.steps, logDir: null } as InstallEvent,
      { type: "step-started", stepId: "host.sysctls", title: "Kernel settings", host: "a" } as InstallEvent,
    ].reduce(applyInstallEvent, p);
    expect(q.failures).toEqual([]);
    expect(q.finished).toBeNull();
    expect(q.cells[cellKey("host.swap-off", "a")]).toBe("done");
    expect(q.running).toEqual([{ stepId: "host.sysctls", title: "Kernel settings", host: "a" }]);
  });

  it("a step only some hosts run (k8s.init on the control plane) leaves no pending cell on the others", () => {
    const steps = [{ id: "host.swap-off", title: "Turn swap off" }, { id: "k8s.init", title: "Initialize the control plane" }];
    const run: InstallEvent[] = [
      { type: "step-verified", stepId: "host.swap-off", host: "cp", durationMs: 1 },
      { type: "step-verified", stepId: "host.swap-off", host: "w", durationMs: 1 },
      { type: "step-verified", stepId: "k8s.init", host: "cp", durationMs: 1 },
    ];
    // without the steps' hosts (the executor's run-started today): pending while running, "none" once the run succeeded
    const mid = [{ type: "run-started", dryRun: false, steps } as InstallEvent, ...run].reduce(applyInstallEvent, initialProgress(["cp", "w"]));
    expect(pairCounts(mid)).toEqual({ settled: 3, total: 4 });
    expect(hostState(mid, "w").kind).toBe("waiting");
    const end = applyInstallEvent(mid, { type: "run-finished", status: "succeeded", durationMs: 5 });
    expect(end.cells[cellKey("k8s.init", "w")]).toBe("none");
    expect(pairCounts(end)).toEqual({ settled: 3, total: 3 });
    expect(hostState(end, "w").kind).toBe("done");
    // a failed run says nothing about the cells it never reached
    const failed = applyInstallEvent(mid, { type: "run-finished", status: "failed", durationMs: 5 });
    expect(failed.cells[cellKey("k8s.init", "w")]).toBeUndefined();
    // with the steps' hosts: known from the start
    const named = applyInstallEvent(initialProgress(["cp", "w"]), { type: "run-started", dryRun: false, steps: [steps[0]!, { ...steps[1]!, hosts: ["cp"] }] });
    expect(named.cells[cellKey("k8s.init", "w")]).toBe("none");
    expect(named.cells[cellKey("k8s.init", "cp")]).toBeUndefined();
    expect(pairCounts(named)).toEqual({ settled: 0, total: 3 });
  });

  it("ignores event types it does not know", () => {
    const p = initialProgress(["a"]);
    expect(applyInstallEvent(p, { type: "future-event" } as unknown as InstallEvent)).toBe(p);
  });
});

// Compile-time proof that the executor's events feed the view unchanged (tsc fails here if they drift apart).
export const executorEventsFit: (e: ExecutorEvent) => InstallEvent = (e) => e;
