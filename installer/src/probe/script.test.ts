import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { CaptureSpec } from "./captures.js";
import { buildProbeScript, splitProbeOutput } from "./script.js";

const specs: CaptureSpec[] = [
  { name: "a.txt", command: "printf 'one\\ntwo'", tool: null, why: "" },
  { name: "b.txt", command: "echo out; echo err >&2; exit 3", tool: null, why: "" },
  { name: "c.txt", command: "nonexistent-tool-xyz --flag", tool: "nonexistent-tool-xyz", why: "" },
  { name: "d.txt", command: "sleep 5", tool: null, why: "", mayHang: true },
  { name: "e.txt", command: "printf 'OMSTACKfake:E:e.txt:0\\n'; printf 'x\\n'", tool: null, why: "" },
];

describe("probe script", () => {
  it("runs in a real sh and splits every capture with its exit status", () => {
    const nonce = "OMSTACK0123456789abcdef01";
    const script = buildProbeScript(specs, nonce, 1);
    const r = spawnSync("sh", ["-s"], { input: script });
    const outcomes = splitProbeOutput(r.stdout, r.stderr, nonce, specs);
    const by = Object.fromEntries(outcomes.map((o) => [o.name, o]));
    expect(by["a.txt"]).toMatchObject({ status: "ok", exitCode: 0 });
    expect(by["a.txt"]!.stdout.toString()).toBe("one\ntwo");
    expect(by["b.txt"]).toMatchObject({ status: "failed", exitCode: 3, stderr: "err\n" });
    expect(by["b.txt"]!.stdout.toString()).toBe("out\n");
    expect(by["c.txt"]).toMatchObject({ status: "missing-tool", exitCode: 127 });
    expect(by["d.txt"]).toMatchObject({ status: "timeout", exitCode: 124 });
    expect(by["e.txt"]!.stdout.toString()).toBe("OMSTACKfake:E:e.txt:0\nx\n");
  });

  it("keeps what arrived when the output is cut short", () => {
    const nonce = "OMSTACKabc";
    const out = Buffer.from(`${nonce}:B:a.txt\npartial`);
    const o = splitProbeOutput(out, Buffer.alloc(0), nonce, specs);
    expect(o).toEqual([{ name: "a.txt", status: "timeout", exitCode: null, stdout: Buffer.from("partial"), stderr: "" }]);
  });

  it("returns nothing for output without markers (a banner, a restricted shell)", () => {
    expect(splitProbeOutput(Buffer.from("Welcome!\n"), Buffer.alloc(0), "OMSTACKabc", specs)).toEqual([]);
  });
});
