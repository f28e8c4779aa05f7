// Executor behaviour with toy steps on in-memory hosts: order, skip, dry-run, resume, failures, rollback, flags, locks.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execute, type ExecuteOptions } from "../../installer/src/executor/executor.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";
import { formatEvent } from "../../installer/src/executor/events.js";
import { MemoryHosts } from "../../installer/src/executor/testing/memoryHosts.js";
import { Journal, JOURNAL_FILE } from "../../installer/src/state/journal.js";
import { CommandError, OmstackError } from "../../installer/src/errors.js";
import type { Step, WriteCtx } from "../../installer/src/steps/types.js";
import { toyStep, type ToyOptions, type ToyPlan } from "./toy.js";

let stateDir: string;
let calls: string[];
let events: ExecutorEvent[];
let hosts: MemoryHosts;
const plan: ToyPlan = { hosts: ["h1", "h2", "h3"] };

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), "omstack-exec-"));
  calls = [];
  events = [];
  hosts = new MemoryHosts(plan.hosts);
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

function steps(ids: string[], extra: Partial<ToyOptions> = {}, per: Record<string, Partial<ToyOptions>> = {}): Step<ToyPlan>[] {
  return ids.map((id) => toyStep(id, { calls, ...extra, ...(per[id] ?? {}) }));
}

function run(s: Step<ToyPlan>[], o: Partial<ExecuteOptions<ToyPlan>> = {}) {
  return execute<ToyPlan>({ steps: s, plan, hosts, stateDir, onEvent: (e) => events.push(e), ...o });
}

const of = (type: ExecutorEvent["type"]) => events.filter((e) => e.type === type) as (ExecutorEvent & { stepId: string; host: string })[];
const stepWrites = () => hosts.writes.filter((w) => w.op !== "run");

describe("executor", () => {
  it("runs steps in order over every host, each applied then verified, and journals every step × host", async () => {
    const r = await run(steps(["a", "b", "c"]), { concurrency: 2 });
    expect(r.status).toBe("succeeded");
    expect(r.error).toBeNull();
    for (const h of plan.hosts) for (const id of ["a", "b", "c"]) expect(hosts.text(h, `/toy/${id}`)).toBe(`${id}@v1`);
    // A step starts on a host only after the previous step finished on every host.
    const order = events.filter((e) => e.type === "step-started").map((e) => (e as { stepId: string }).stepId);
    expect(order).toEqual(["a", "a", "a", "b", "b", "b", "c", "c", "c"]);
    const lastA = events.findLastIndex((e) => e.type === "step-verified" && e.stepId === "a");
    const firstB = events.findIndex((e) => e.type === "step-started" && e.stepId === "b");
    expect(lastA).toBeLessThan(firstB);
    for (const h of plan.hosts) {
      const seq = events.filter((e) => "host" in e && e.host === h && "stepId" in e && e.stepId === "a").map((e) => e.type);
      expect(seq).toEqual(["step-started", "step-applied", "step-verified"]);
    }
    const j = Journal.open(stateDir);
    try {
      const rows = j.steps(r.runId!);
      expect(rows).toHaveLength(9);
      expect(rows.every((x) => x.status === "verified" && x.attempts === 1 && x.durationMs !== null && x.logPath?.endsWith(`${x.host}.log`))).toBe(true);
      expect(j.run(r.runId!)?.status).toBe("succeeded");
    } finally {
      j.close();
    }
  });

  it("keeps at most `concurrency` hosts in flight", async () => {
    const track = { now: 0, max: 0 };
    const many = new MemoryHosts(["n1", "n2", "n3", "n4", "n5"]);
    await execute<ToyPlan>({ steps: steps(["a"], { track }), plan: { hosts: ["n1", "n2", "n3", "n4", "n5"] }, hosts: many, stateDir, concurrency: 2 });
    expect(track.max).toBe(2);
    track.max = 0;
    await execute<ToyPlan>({ steps: steps(["b"], { track }), plan: { hosts: ["n1", "n2", "n3", "n4", "n5"] }, hosts: many, stateDir, concurrency: 5 });
    expect(track.max).toBe(5);
  });

  it("skips a step on resume only when the journal says done with the same inputs AND check still says done", async () => {
    await run(steps(["a", "b"]));
    calls.length = 0;
    events = [];
    // Someone reverts b on h2; a's inputs change everywhere.
    hosts.fs("h2").delete("/toy/b");
    const r = await run([toyStep("a", { calls, version: "v2" }), toyStep("b", { calls })]);
    expect(r.status).toBe("succeeded");
    expect(calls.sort()).toEqual(["apply a h1", "apply a h2", "apply a h3", "apply b h2"]);
    expect(of("step-skipped").map((e) => `${e.stepId} ${e.host}`).sort()).toEqual(["b h1", "b h3"]);
    expect(of("step-started").find((e) => e.stepId === "b")).toMatchObject({ host: "h2", pending: expect.stringContaining("/toy/b is not b@v1") });
    expect(of("step-started").find((e) => e.stepId === "a")).toMatchObject({ pending: expect.stringContaining("inputs changed") });
    // A third run changes nothing at all.
    calls.length = 0;
    const before = stepWrites().length;
    await run([toyStep("a", { calls, version: "v2" }), toyStep("b", { calls })]);
    expect(calls).toEqual([]);
    expect(stepWrites().length).toBe(before);
  });

  it("applies again when check says done but the journal has no finished record (the host is not the memory)", async () => {
    for (const h of plan.hosts) hosts.put(h, "/toy/a", "a@v1");
    const r = await run(steps(["a"]));
    expect(r.status).toBe("succeeded");
    expect(calls).toHaveLength(3);
    expect((of("step-started")[0] as Extract<ExecutorEvent, { type: "step-started" }>).pending).toMatch(/never applied; the host already looks done/);
  });

  it("dry-run only reads: no writer context, no write, no journal, and says what it would do", async () => {
    const r = await run(steps(["a", "b"]), { dryRun: true });
    expect(r.status).toBe("succeeded");
    expect(r.runId).toBeNull();
    expect(hosts.writes).toEqual([]);
    expect(hosts.writerRequests.size).toBe(0);
    expect(calls).toEqual([]);
    expect(existsSync(join(stateDir, JOURNAL_FILE))).toBe(false);
    const planned = of("step-planned") as Extract<ExecutorEvent, { type: "step-planned" }>[];
    expect(planned).toHaveLength(6);
    expect(planned[0]).toMatchObject({ willApply: true, lines: ["write /toy/a = a@v1"] });
    expect(formatEvent(planned[0]!)).toEqual(["h1: a: would apply (never applied; /toy/a is not a@v1)", "h1:   write /toy/a = a@v1"]);

    // After a real run, a dry-run says "would skip" and still writes nothing.
    await run(steps(["a", "b"]));
    const writes = hosts.writes.length;
    const writers = [...hosts.writerRequests.values()].reduce((x, y) => x + y, 0);
    events = [];
    await run(steps(["a", "b"]), { dryRun: true });
    expect(hosts.writes.length).toBe(writes);
    expect([...hosts.writerRequests.values()].reduce((x, y) => x + y, 0)).toBe(writers);
    expect((of("step-planned") as Extract<ExecutorEvent, { type: "step-planned" }>[]).every((e) => !e.willApply && /done in run 1; check confirms/.test(e.reason))).toBe(true);
  });

  it("check, verify and describe get a context that has no write methods at all, even through a cast", async () => {
    const sneaky: Step<ToyPlan> = {
      ...toyStep("sneaky", { calls }),
      async check(ctx) {
        await (ctx as unknown as WriteCtx).writeFile("/etc/evil", "x");
        return "done";
      },
    };
    const r = await run([sneaky]);
    expect(r.status).toBe("failed");
    expect(hosts.text("h1", "/etc/evil")).toBeNull();
    expect(of("step-failed")[0]).toMatchObject({ error: { code: "E_INTERNAL", message: expect.stringMatching(/writeFile is not a function/) } });
  });

  it("a failure on one host keeps the other hosts' work, blocks that host's later steps, and keeps command, exit status and output tail", async () => {
    const r = await run(steps(["a", "b", "c"], {}, { b: { failApplyOn: new Set(["h2"]) } }).concat(toyStep("all", { calls, cluster: true })), { clusterHost: "h1" });
    expect(r.status).toBe("failed");
    expect(hosts.text("h1", "/toy/c")).toBe("c@v1");
    expect(hosts.text("h3", "/toy/c")).toBe("c@v1");
    expect(hosts.text("h2", "/toy/c")).toBeNull();
    expect(of("step-blocked").map((e) => `${e.stepId} ${e.host}`)).toEqual(["c h2", "all cluster"]);
    const failed = of("step-failed")[0] as Extract<ExecutorEvent, { type: "step-failed" }>;
    expect(failed).toMatchObject({ host: "h2", stepId: "b", error: { code: "E_COMMAND_FAILED", command: "toy-tool --b", exitStatus: 3, remedy: "put the fire out" } });
    expect(failed.error.outputTail).toContain("toy-tool: disk on fire");
    expect(formatEvent(failed)[0]).toBe("h2: b: FAILED: `toy-tool --b` exited with status 3 [E_COMMAND_FAILED]");
    expect(formatEvent(failed).join("\n")).toMatch(/h2: b: FAILED: .*\n.*command: toy-tool --b \(exit status 3\)\n.*\| line 1[\s\S]*fix: put the fire out[\s\S]*log: /);
    expect(r.error?.code).toBe("E_INSTALL_FAILED");
    expect(r.error?.message).toBe("failed on 1 host(s): h2: b");
    const j = Journal.open(stateDir);
    try {
      const rows = Object.fromEntries(j.steps(r.runId!).map((x) => [`${x.stepId} ${x.host}`, x]));
      expect(rows["b h2"]).toMatchObject({ status: "failed", errorCode: "E_COMMAND_FAILED" });
      expect(rows["c h2"]!.status).toBe("blocked");
      expect(rows["c h1"]!.status).toBe("verified");
    } finally {
      j.close();
    }
  });

  it("rolls back only the step whose apply started in this run and failed", async () => {
    await run(steps(["a"], { withRollback: true }));
    calls.length = 0;
    const r = await run([
      toyStep("a", { calls, withRollback: true }), // skipped this run: never rolled back
      toyStep("b", { calls, withRollback: true, failApplyOn: new Set(["h2"]) }), // apply started and failed on h2
      toyStep("c", { calls, withRollback: true, failCheckOn: new Set(["h3"]) }), // check failed on h3: apply never started
    ]);
    expect(r.status).toBe("failed");
    expect(calls.filter((c) => c.startsWith("rollback"))).toEqual(["rollback b h2"]);
    expect(hosts.text("h2", "/toy/b.partial")).toBeNull();
    expect(hosts.text("h1", "/toy/a")).toBe("a@v1");
    expect(of("step-rolled-back")).toEqual([expect.objectContaining({ stepId: "b", host: "h2", ok: true })]);
  });

  it("after a failed step, a plain re-run refuses; --retry-failed continues; --from-step forces re-apply from that step", async () => {
    const failing = new Set(["h2"]);
    await run(steps(["a", "b", "c"], {}, { b: { failApplyOn: failing } }));
    const again = run(steps(["a", "b", "c"]));
    await expect(again).rejects.toMatchObject({ code: "E_INSTALL_PREVIOUS_FAILED", message: expect.stringContaining("h2: b (E_COMMAND_FAILED") });
    failing.clear(); // the operator fixed the host
    calls.length = 0;
    events = [];
    const r = await run(steps(["a", "b", "c"]), { retryFailed: true });
    expect(r.status).toBe("succeeded");
    expect(calls.sort()).toEqual(["apply b h2", "apply c h2"]);
    expect(of("step-started").find((e) => e.stepId === "b")).toMatchObject({ attempt: 2 });

    calls.length = 0;
    await run(steps(["a", "b", "c"]), { fromStep: "b" });
    expect(calls.sort()).toEqual(["apply b h1", "apply b h2", "apply b h3", "apply c h1", "apply c h2", "apply c h3"]);
    await expect(run(steps(["a"]), { fromStep: "nope" })).rejects.toMatchObject({ code: "E_INSTALL_FROM_STEP", message: expect.stringContaining("the steps are: a") });
  });

  it("a host that cannot be reached fails alone, and the next plain run retries it without --retry-failed", async () => {
    hosts.unreachable.add("h3");
    const r = await run(steps(["a"]));
    expect(r.outcomes.filter((o) => o.status === "failed")).toEqual([{ stepId: "a", host: "h3", status: "failed" }]);
    expect(of("step-failed")[0]!).toMatchObject({ host: "h3", error: { code: "E_SSH_CONNECT" } });
    hosts.unreachable.clear();
    calls.length = 0;
    const again = await run(steps(["a"]));
    expect(again.status).toBe("succeeded");
    expect(calls).toEqual(["apply a h3"]);
  });

  it("verify failures are failures (with rollback), and the journal keeps counting attempts over runs", async () => {
    const r = await run(steps(["a"], { failVerifyOn: new Set(["h1"]), withRollback: true }));
    expect(r.status).toBe("failed");
    expect(of("step-failed")[0]).toMatchObject({ host: "h1", error: { code: "E_STEP_VERIFY" } });
    expect(calls).toContain("rollback a h1");
    await run(steps(["a"]), { retryFailed: true });
    const j = Journal.open(stateDir);
    try {
      expect(j.lastOutcome("a", "h1")).toMatchObject({ status: "verified", attempts: 2, runId: 2 });
      expect(j.lastOutcome("a", "h2")).toMatchObject({ status: "skipped", attempts: 1 });
    } finally {
      j.close();
    }
  });

  it("an abort signal stops new work, ends the run interrupted, and the next run continues", async () => {
    const ctl = new AbortController();
    const s = steps(["a", "b"], { beforeWrite: async () => ctl.abort() }, { b: {} });
    const r = await run(s, { concurrency: 1, signal: ctl.signal });
    expect(r.status).toBe("interrupted");
    expect(r.error?.code).toBe("E_INSTALL_INTERRUPTED");
    expect(calls.filter((c) => c.startsWith("apply a"))).toEqual(["apply a h1"]);
    calls.length = 0;
    const again = await run(steps(["a", "b"]), { concurrency: 1 });
    expect(again.status).toBe("succeeded");
    expect(calls).toEqual(["apply a h2", "apply a h3", "apply b h1", "apply b h2", "apply b h3"]);
  });

  it("rejects duplicate step ids before touching anything", async () => {
    await expect(run([toyStep("a", { calls }), toyStep("a", { calls })])).rejects.toMatchObject({ code: "E_INTERNAL" });
    expect(hosts.opened).toEqual([]);
  });

  it("a cluster step without a cluster node is a clear failure, not a crash", async () => {
    const r = await run([toyStep("all", { calls, cluster: true })]);
    expect(of("step-failed")[0]).toMatchObject({ host: "cluster", error: { code: "E_STEP_CONFIG" } });
    expect(r.status).toBe("failed");
  });
});

describe("journal and local lock", () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = null;
  });

  it("creates the state dir 0700 and the journal 0600 in WAL mode with a migrations table", () => {
    const dir = join(stateDir, "nested", "state");
    const j = Journal.open(dir);
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, JOURNAL_FILE)).mode & 0o777).toBe(0o600);
      expect(j.db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(j.db.prepare("SELECT version, name FROM migrations").all()).toEqual([{ version: 1, name: "runs, steps, lock" }]);
    } finally {
      j.close();
    }
    // Reopening does not migrate twice.
    const again = Journal.open(dir);
    expect(again.db.prepare("SELECT COUNT(*) AS n FROM migrations").get()).toEqual({ n: 1 });
    again.close();
  });

  it("refuses a journal written by a newer omstack, and an unusable state directory, with E_INSTALL_STATE", () => {
    const j = Journal.open(stateDir);
    j.db.prepare("INSERT INTO migrations (version, name, applied_at) VALUES (99, 'future', 'x')").run();
    j.close();
    expect(() => Journal.open(stateDir)).toThrow(expect.objectContaining({ code: "E_INSTALL_STATE", message: expect.stringContaining("schema version 99") }));
    writeFileSync(join(stateDir, "a-file"), "x");
    expect(() => Journal.open(join(stateDir, "a-file", "state"))).toThrow(expect.objectContaining({ code: "E_INSTALL_STATE", message: expect.stringContaining("a-file/state is required to be a writable directory") }));
  });

  it("refuses to run while a live process holds the lock, and takes over a lock whose process is gone", async () => {
    child = spawn("sleep", ["600"], { stdio: "ignore" });
    const j = Journal.open(stateDir);
    j.db.prepare("INSERT INTO lock (id, pid, pid_start, hostname, acquired_at, purpose) VALUES (1, ?, NULL, ?, 'then', 'install')").run(child.pid, (await import("node:os")).hostname());
    j.close();
    const err = await run(steps(["a"])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OmstackError);
    expect(err).toMatchObject({ code: "E_INSTALL_LOCKED", message: expect.stringContaining(`PID ${child.pid}`) });
    expect(calls).toEqual([]);

    const dead = child;
    const exited = new Promise((r) => dead.once("exit", r));
    dead.kill("SIGKILL");
    await exited;
    child = null;
    const r = await run(steps(["a"]));
    expect(r.status).toBe("succeeded");
    const after = Journal.open(stateDir);
    expect(after.lockHolder()).toBeNull(); // released at the end of the run
    after.close();
  });

  it("marks runs a killed installer left 'running' as interrupted when the next run starts", () => {
    const j = Journal.open(stateDir);
    j.acquireLock("install");
    const first = j.startRun({ mode: "apply", options: {}, planHash: null });
    const second = j.startRun({ mode: "apply", options: { retryFailed: true }, planHash: "abc" });
    expect(j.run(first)?.status).toBe("interrupted");
    expect(j.run(second)).toMatchObject({ status: "running", options: { retryFailed: true }, planHash: "abc" });
    j.close();
  });

  it("a CommandError keeps argv, exit status and only the tail of long output", () => {
    const out = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n");
    const e = new CommandError("E_COMMAND_FAILED", "x failed", "x --y", 2, out);
    expect(e.outputTail.split("\n")).toHaveLength(20);
    expect(e.outputTail.endsWith("line 49")).toBe(true);
  });
});

describe("executor: peers", () => {
  it("lets a step on one host read and write another host of the install, logged in the step's host log, never writing in a dry run", async () => {
    hosts.put("h1", "/etc/token", "secret-join-token\n");
    const joinLike: Step<ToyPlan> = {
      id: "peer.join",
      title: "join through h1",
      targets: () => ["h2", "h3"],
      async check(ctx) {
        return (await ctx.exists("/joined")) ? "done" : { pending: "not joined" };
      },
      async apply(ctx) {
        const cp = await ctx.peer("h1");
        const token = await cp.readText("/etc/token");
        await cp.writeFile(`/issued/${ctx.host}`, "1");
        await ctx.writeFile("/joined", token ?? "none");
      },
      async verify(ctx) {
        const cp = await ctx.peer("h1");
        if (!(await cp.exists(`/issued/${ctx.host}`))) throw new Error("h1 did not record the join");
      },
      describe: (ctx) => [`join ${ctx.host} through h1`],
    };
    const dry = await run([joinLike], { dryRun: true });
    expect(dry.status).toBe("succeeded");
    expect(hosts.writerRequests.get("h1") ?? 0).toBe(0);
    const r = await run([joinLike]);
    expect(r.status).toBe("succeeded");
    expect(hosts.text("h2", "/joined")).toBe("secret-join-token\n");
    expect(hosts.text("h1", "/issued/h3")).toBe("1");
    expect(hosts.text("h1", "/issued/h2")).toBe("1");
  });
});

describe("executor: steps that need every host", () => {
  it("are blocked (not failed) when an earlier step failed on another host, so a plain re-run retries the cause", async () => {
    const all: Step<ToyPlan> = { ...toyStep("all", { calls }), id: "all", targets: () => ["h1"], needsEveryHost: true };
    const r = await run([...steps(["a"], {}, { a: { failApplyOn: new Set(["h3"]) } }), all]);
    expect(r.status).toBe("failed");
    expect(r.outcomes.find((o) => o.stepId === "all")?.status).toBe("blocked");
    expect(of("step-blocked").map((e) => e.stepId)).toEqual(["all"]);
    // the re-run is refused only for the real failure (a on h3), which --retry-failed retries
    await expect(run([...steps(["a"]), all])).rejects.toMatchObject({ code: "E_INSTALL_PREVIOUS_FAILED", message: expect.not.stringContaining("all") });
    const again = await run([...steps(["a"]), all], { retryFailed: true });
    expect(again.status).toBe("succeeded");
  });
});
