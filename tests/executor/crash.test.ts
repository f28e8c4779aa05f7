// Crash-resume: kill -9 the installer in the middle of step k (for every k), run it again, and every effect happens exactly once.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Journal } from "../../installer/src/state/journal.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";

const child = join(import.meta.dirname, "crash-child.ts");
const work = mkdtempSync(join(tmpdir(), "omstack-crash-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function start(stateDir: string, root: string, crashStep = "", crashHost = "") {
  const p = spawn(process.execPath, ["--import", "tsx", child, stateDir, root, crashStep, crashHost], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; events: ExecutorEvent[]; stderr: string }>((resolve) =>
    p.on("exit", (code, signal) => resolve({ code, signal, events: out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ExecutorEvent), stderr: err })),
  );
  return { p, exited };
}

async function waitFor(path: string, child: { exited: Promise<unknown> }): Promise<void> {
  let gone = false;
  void child.exited.then(() => (gone = true));
  for (let i = 0; i < 1200 && !existsSync(path); i++) {
    if (gone) throw new Error(`the child exited before it reached ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSync(path)) throw new Error(`the child never reached ${path}`);
}

const lines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").trim().split("\n") : []);
const count = (list: string[], item: string) => list.filter((l) => l === item).length;
const STEPS = ["s1", "s2", "s3", "s4"];

describe("crash and resume", () => {
  for (const k of [0, 1, 2, 3]) {
    const crashStep = STEPS[k]!;
    it(`kill -9 during ${crashStep} on h2, then a plain re-run finishes with every effect exactly once`, async () => {
      const stateDir = join(work, `state-${crashStep}`);
      const root = join(work, `root-${crashStep}`);
      const first = start(stateDir, root, crashStep, "h2");
      await waitFor(join(root, "reached"), first);
      first.p.kill("SIGKILL");
      const dead = await first.exited;
      expect(dead.signal).toBe("SIGKILL");

      // The journal shows the step as running in a run that never finished; locks were left behind.
      const j = Journal.open(stateDir);
      expect(j.runs()).toEqual([expect.objectContaining({ id: 1, status: "running" })]);
      expect(j.steps(1).find((r) => r.stepId === crashStep && r.host === "h2")?.status).toBe("running");
      expect(j.lockHolder()?.pid).toBe(first.p.pid);
      j.close();
      expect(existsSync(join(root, "h2", "lock"))).toBe(true);

      const second = start(stateDir, root);
      const done = await second.exited;
      expect(done.code, done.stderr).toBe(0);

      const skipped = done.events.filter((e) => e.type === "step-skipped").map((e) => `${(e as { stepId: string }).stepId} ${(e as { host: string }).host}`);
      const expectSkipped = [...STEPS.slice(0, k).flatMap((s) => [`${s} h1`, `${s} h2`]), `${crashStep} h1`];
      expect(skipped.sort()).toEqual(expectSkipped.sort());
      const resumed = done.events.find((e) => e.type === "step-started" && e.stepId === crashStep && e.host === "h2");
      expect(resumed).toMatchObject({ attempt: 2, pending: expect.stringContaining("run 1 was interrupted during this step") });
      expect(done.events.some((e) => e.type === "step-note" && e.host === "h2" && /took over the host lock .* left by run 1/.test(e.message))).toBe(true);

      const effects = lines(join(root, "effects.log"));
      const starts = lines(join(root, "starts.log"));
      for (const s of STEPS) {
        for (const h of ["h1", "h2"]) {
          expect(count(effects, `effect ${s} ${h}`), `effect ${s} ${h}`).toBe(1);
          expect(count(starts, `start ${s} ${h}`), `start ${s} ${h}`).toBe(s === crashStep && h === "h2" ? 2 : 1);
        }
      }

      const after = Journal.open(stateDir);
      expect(after.runs().map((r) => r.status)).toEqual(["interrupted", "succeeded"]);
      expect(after.lockHolder()).toBeNull();
      after.close();
      expect(existsSync(join(root, "h1", "lock"))).toBe(false);
      expect(existsSync(join(root, "h2", "lock"))).toBe(false);
    });
  }
});
