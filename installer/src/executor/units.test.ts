// Pure pieces of the executor: inputs hash, resume verdicts, shell quoting.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { canonicalJson, inputsHash } from "./hash.js";
import { blockingFailures, journalVerdict } from "./decide.js";
import { base64Lines, checkPath, parentDir, shq } from "../steps/shell.js";
import type { StepRow } from "../state/journal.js";

const row = (over: Partial<StepRow>): StepRow => ({
  runId: 4, stepId: "s", host: "h", seq: 0, status: "verified", attempts: 1, inputsHash: "H", startedAt: "", finishedAt: null, durationMs: 1, errorCode: null, message: null, logPath: null, ...over,
});

describe("inputs hash", () => {
  it("ignores key order and undefined, but not values or the step id", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: "x" }] })).toBe('{"a":[1,{"c":"x"}],"b":1}');
    expect(inputsHash("s", { a: 1, b: 2 })).toBe(inputsHash("s", { b: 2, a: 1 }));
    expect(inputsHash("s", { a: 1 })).not.toBe(inputsHash("s", { a: 2 }));
    expect(inputsHash("s", { a: 1 })).not.toBe(inputsHash("t", { a: 1 }));
  });
});

describe("resume verdict", () => {
  it.each([
    [null, "H", false, false, "never applied"],
    [row({}), "H", false, true, "done in run 4"],
    [row({ status: "skipped" }), "H", false, true, "done in run 4"],
    [row({}), "OTHER", false, false, "inputs changed since run 4"],
    [row({ status: "running" }), "H", false, false, "run 4 was interrupted during this step"],
    [row({ status: "failed", errorCode: "E_COMMAND_FAILED" }), "H", false, false, "failed in run 4 (E_COMMAND_FAILED)"],
    [row({}), "H", true, false, "forced by --from-step"],
  ])("%j with hash %s forced=%s → mayskip %s", (prev, hash, forced, mayskip, reason) => {
    expect(journalVerdict(prev, hash, forced)).toEqual({ mayskip, reason });
  });

  it("only step failures need --retry-failed; a dropped connection does not", () => {
    const rows = [row({ status: "failed", errorCode: "E_COMMAND_FAILED", host: "a" }), row({ status: "failed", errorCode: "E_SSH_CONNECT", host: "b" }), row({ status: "rolled-back", errorCode: "E_STEP_VERIFY", host: "c" }), row({ host: "d" })];
    expect(blockingFailures(rows).map((r) => r.host)).toEqual(["a", "c"]);
  });
});

describe("shell helpers", () => {
  it("quotes any word so sh gives it back unchanged", () => {
    for (const w of ["plain", "it's", "a b", "$(reboot)", "`x`", "\\n", "'; rm -rf / '"]) {
      expect(execFileSync("sh", ["-c", `printf '%s' ${shq(w)}`]).toString()).toBe(w);
    }
  });
  it("refuses relative paths, '..' and control characters", () => {
    expect(checkPath("/etc/x", "h")).toBe("/etc/x");
    for (const p of ["etc/x", "/etc/../x", "/etc/x\nrm", ""]) expect(() => checkPath(p, "h")).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", host: "h" }));
    expect(parentDir("/a/b/c")).toBe("/a/b");
    expect(parentDir("/a")).toBe("/");
  });
  it("base64 lines decode back byte for byte", () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    expect(Buffer.from(base64Lines(data).replace(/\n/g, ""), "base64")).toEqual(data);
    expect(base64Lines(data).split("\n").every((l) => l.length <= 76)).toBe(true);
  });
});
