import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatEvent, type ExecutorEvent } from "../executor/events.js";
import { readLogTail, startProgress, wantsLiveProgress } from "./progress.js";

describe("wantsLiveProgress", () => {
  it("the live view only on a terminal, with table output, without --no-tui and not on a dumb terminal", () => {
    const tty = { stdoutIsTTY: true, output: "table" as const, tui: true, env: { TERM: "xterm-256color" } };
    expect(wantsLiveProgress(tty)).toBe(true);
    expect(wantsLiveProgress({ ...tty, stdoutIsTTY: false })).toBe(false);
    expect(wantsLiveProgress({ ...tty, output: "json" })).toBe(false);
    expect(wantsLiveProgress({ ...tty, output: "yaml" })).toBe(false);
    expect(wantsLiveProgress({ ...tty, tui: false })).toBe(false);
    expect(wantsLiveProgress({ ...tty, env: { TERM: "dumb" } })).toBe(false);
  });
});

describe("readLogTail", () => {
  it("returns the last lines of a file (reading only its end), [] when it cannot be read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-progress-"));
    const f = join(dir, "n1.log");
    await writeFile(f, Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`).join("\n") + "\n");
    expect(readLogTail(f, 3)).toEqual(["line 4998", "line 4999", "line 5000"]);
    expect(readLogTail(join(dir, "missing.log"), 3)).toEqual([]);
  });
});

describe("plain progress (no terminal, --no-tui)", () => {
  const events: ExecutorEvent[] = [
    { type: "run-started", runId: 4, dryRun: false, steps: [{ id: "host.swap-off", title: "Turn swap off" }], logDir: "/s/logs/run-4" },
    { type: "step-started", stepId: "host.swap-off", title: "Turn swap off", host: "n1", attempt: 1, pending: "swap is on", logPath: "/s/logs/run-4/n1.log" },
    { type: "step-failed", stepId: "host.swap-off", title: "Turn swap off", host: "n1", durationMs: 30, error: { code: "E_COMMAND_FAILED", message: "swapoff -a exited 1", remedy: "turn it off by hand", command: "swapoff -a", exitStatus: 1, outputTail: "not permitted" }, logPath: "/s/logs/run-4/n1.log" },
  ];

  it("prints one plain line per event, exactly formatEvent's", async () => {
    const lines: string[] = [];
    const p = await startProgress({ live: false, ascii: false, hosts: ["n1"], logPath: "/tmp/x.log", note: (l) => lines.push(l) });
    for (const e of events) p.onEvent(e);
    await p.close();
    expect(lines).toEqual(events.flatMap(formatEvent));
    expect(lines).toContain("n1: host.swap-off: FAILED: swapoff -a exited 1 [E_COMMAND_FAILED]");
  });

  it("the first SIGINT aborts the signal and says the running steps finish; close removes the handler", async () => {
    const before = process.listenerCount("SIGINT");
    const lines: string[] = [];
    const p = await startProgress({ live: false, ascii: false, hosts: ["n1"], logPath: "/tmp/x.log", note: (l) => lines.push(l) });
    expect(process.listenerCount("SIGINT")).toBe(before + 1);
    expect(p.signal.aborted).toBe(false);
    process.emit("SIGINT");
    expect(p.signal.aborted).toBe(true);
    expect(lines.join("\n")).toContain("stopping: the running steps finish, nothing new starts");
    // the second Ctrl-C is Node's again (quit at once)
    expect(process.listenerCount("SIGINT")).toBe(before);
    await p.close();
    expect(process.listenerCount("SIGINT")).toBe(before);
  });
});
