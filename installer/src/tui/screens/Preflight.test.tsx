import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { preflightAndPlan } from "../../plan/pipeline.js";
import { DEFAULT_BUNDLE_VERSIONS } from "../../plan/defaults.js";
import { loadServiceDir } from "../../preflight/services.fs.js";
import { host } from "../../preflight/testing/hosts.js";
import type { Outcome } from "../../preflight/preflight.js";
import { Preflight } from "./Preflight.js";
import { isAscii, KEY, press, renderAt, sizeProblems, waitFor } from "../testing.js";

const services = loadServiceDir(join(import.meta.dirname, "../../../../services"));
const GiB = 2 ** 30;
const bad = host("bad-01", { system: { swapBytes: 8 * GiB, timeSynchronized: false }, memory: { totalBytes: 4 * GiB } });
const good = host("good-01");
const evaluate = (ignore: string[]) =>
  preflightAndPlan({ inventory: { hosts: [{ name: "bad-01" }, { name: "good-01" }] }, facts: [good, bad], bundle: { version: "t", ...DEFAULT_BUNDLE_VERSIONS }, services, ignore }).outcomes;

describe("Preflight", () => {
  it("lists failures first with their fix, bypasses only after an explicit y, and continues only without failures", async () => {
    const bypasses: [string, boolean][] = [];
    let next = 0;
    const outcomes = evaluate([]);
    const failing = outcomes.filter((o) => o.status === "fail");
    expect(failing.length).toBeGreaterThan(0);
    const r = renderAt(<Preflight outcomes={outcomes} bypassed={[]} onBypass={(id, on) => bypasses.push([id, on])} onRerun={() => undefined} onNext={() => next++} />);
    await press(r.stdin);
    const f = r.lastFrame()!;
    const lines = f.split("\n");
    // the host with failures comes first, and its first item is a failure with its fix shown below
    expect(lines.findIndex((l) => l.startsWith("bad-01"))).toBeLessThan(lines.findIndex((l) => l.startsWith("good-01")));
    const first = failing.sort((a, b) => a.area.localeCompare(b.area) || a.checkId.localeCompare(b.checkId))[0]!;
    expect(f).toContain(`fix: ${first.remedy.slice(0, 40)}`);
    expect(f).toContain(`${failing.length} failing`);
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, KEY.enter);
    expect(next).toBe(0);
    await press(r.stdin, "b");
    expect(r.lastFrame()).toContain(`Bypass ${first.checkId} on every host (recorded)? y = bypass, n = keep`);
    await press(r.stdin, "n");
    expect(bypasses).toEqual([]);
    await press(r.stdin, "b");
    await waitFor(r.lastFrame, (x) => x.includes("y = bypass"));
    await press(r.stdin, "y");
    expect(bypasses).toEqual([[first.checkId, true]]);
  });

  it("every check failing still fits the screen in ASCII and blocks continuing", async () => {
    const all: Outcome[] = evaluate([]).map((o) => ({ ...o, status: "fail" as const, severity: "fail" as const }));
    let next = 0;
    const r = renderAt(<Preflight outcomes={all} bypassed={[]} onBypass={() => undefined} onRerun={() => undefined} onNext={() => next++} />, { ascii: true });
    await press(r.stdin, KEY.down, KEY.down, KEY.enter);
    const f = r.lastFrame()!;
    expect(f).toContain(`${all.length} failing - 0 bypassed - 0 warnings - 0 passed`);
    expect(f).toContain("more");
    expect(sizeProblems(f)).toEqual([]);
    expect(isAscii(f)).toBe(true);
    expect(next).toBe(0);
  });

  it("a bypassed check is marked, can be undone, and passes let the operator continue", async () => {
    const outcomes = evaluate(["swap.off", "time.sync", "memory.total"]);
    const undo: [string, boolean][] = [];
    let next = 0;
    const remaining = outcomes.filter((o) => o.status === "fail");
    const r = renderAt(<Preflight outcomes={outcomes.filter((o) => o.status !== "fail")} bypassed={["swap.off"]} onBypass={(id, on) => undo.push([id, on])} onRerun={() => undefined} onNext={() => next++} />);
    await press(r.stdin);
    expect(r.lastFrame()).toContain("bypassed by your choice");
    const firstBypassed = outcomes.filter((o) => o.status === "bypassed").sort((a, b) => a.area.localeCompare(b.area) || a.checkId.localeCompare(b.checkId))[0]!;
    await press(r.stdin, "u", KEY.enter);
    expect(undo).toEqual([[firstBypassed.checkId, false]]);
    expect(next).toBe(1);
    expect(remaining.every((o) => o.host === "bad-01")).toBe(true);
  });
});
