// Property tests: whatever the input, the language answers with a value or an ExpressionError, within its step budget.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gpu, host, port } from "../testing/hosts.js";
import { ExpressionError, compile, type Value } from "./index.js";

const facts = host("prop-01", {
  gpus: [gpu(0), gpu(1, "Tesla T4", 15360, null)],
  gpuDriver: { version: "535.54.03", cudaVersion: "12.2" },
  rdma: [port("mlx5_0", "Ethernet")],
});

/** Compiles (with and without the type check) and evaluates; returns what happened, rethrowing anything else. */
function attempt(src: string, maxSteps = 20_000): { ok: boolean; steps: number } {
  let steps = 0;
  let ok = false;
  for (const types of [undefined, false] as const) {
    try {
      const stats = { steps: 0 };
      const c = compile(src, types === false ? { types: false } : {});
      try {
        c.evaluate({ root: facts, vars: { xs: [1, 2, 3], s: "abc" }, maxSteps, stats });
        ok = true;
      } finally {
        steps = Math.max(steps, stats.steps);
      }
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
      expect(["E_EXPR_SYNTAX", "E_EXPR_TYPE", "E_EXPR_LIMIT"]).toContain(e.code);
    }
  }
  return { ok, steps };
}

const TOKENS = [
  "gpus", "rdma", "os", "memory", "system", "xs", "s", "g", "p", "x", ".", "?.", "(", ")", "[", "]", ",", "=>",
  "==", "!=", "<", "<=", ">", ">=", "=~", "!~", "&&", "||", "??", "?", ":", "!", "+", "-", "*", "/", "%", "in",
  "true", "false", "null", "0", "1", "64Gi", "1e3", "2.5", "99999999999999999999", '"A100|H100"', '"(a+)+$"', '"x', "'y'",
  "count", "any", "all", "filter", "map", "sum", "min", "max", "len", "semver", "lower", "contains", "first", "unique",
  "model", "memoryMiB", "id", "totalBytes", "linkLayer", "state", " ", "\n",
];

describe("random input never escapes as anything but ExpressionError", () => {
  it("arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (src) => {
        const r = attempt(src);
        expect(r.steps).toBeLessThanOrEqual(20_000);
      }),
      { numRuns: 1500 },
    );
  });

  it("arbitrary unicode and binary strings", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 120 }), (src) => void attempt(src)), { numRuns: 800 });
  });

  it("token soup", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (toks) => {
        const r = attempt(toks.join(" "));
        expect(r.steps).toBeLessThanOrEqual(20_000);
      }),
      { numRuns: 3000 },
    );
  });

  it("token soup without spaces", () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (toks) => void attempt(toks.join(""))), { numRuns: 2000 });
  });
});

/** Well-formed expressions from the grammar, so the evaluator (not only the parser) sees random programs. */
const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("1", "0", "64Gi", "2.5", "-3", '"a"', '"NVIDIA A100"', "true", "false", "null", "xs", "s", "gpus", "rdma", "os.id", "memory.totalBytes", "gpuDriver.version", "gpus[0].model", "x"),
    fc.tuple(tie("e"), fc.constantFrom("+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "??", "in"), tie("e")).map(([a, op, b]) => `(${a} ${op} ${b})`),
    fc.tuple(fc.constantFrom("!", "-"), tie("e")).map(([op, a]) => `${op}(${a})`),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([a, b, c]) => `(${a} ? ${b} : ${c})`),
    fc.tuple(tie("e"), fc.constantFrom("count", "any", "all", "filter", "map", "sum", "min", "max", "first"), tie("e")).map(([l, f, b]) => `(${l}).${f}(x => ${b})`),
    fc.tuple(tie("e"), fc.constantFrom("len", "unique", "lower", "semver", "string", "number")).map(([a, f]) => `${f}(${a})`),
    fc.tuple(tie("e"), fc.constantFrom('"A100|H100"', '"^(a|aa)*$"', '"(?i)nvidia"')).map(([a, p]) => `(${a} =~ ${p})`),
    fc.array(tie("e"), { maxLength: 4 }).map((items) => `[${items.join(", ")}]`),
  ),
})).e;

describe("random well-formed programs", () => {
  it("evaluate to a value or an ExpressionError within the step budget", () => {
    let evaluated = 0;
    fc.assert(
      fc.property(expr, (src) => {
        const r = attempt(src, 5_000);
        if (r.ok) evaluated++;
        expect(r.steps).toBeLessThanOrEqual(5_000);
      }),
      { numRuns: 3000 },
    );
    // the generator must reach the evaluator, not only the error paths
    expect(evaluated).toBeGreaterThan(300);
  });

  it("evaluation is deterministic", () => {
    fc.assert(
      fc.property(expr, (src) => {
        const run = (): Value | string => {
          try {
            return compile(src, { types: false }).evaluate({ root: facts, vars: { xs: [1, 2, 3], s: "abc" }, maxSteps: 5_000 });
          } catch (e) {
            if (e instanceof ExpressionError) return `${e.code}@${e.line}:${e.column}`;
            throw e;
          }
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 500 },
    );
  });

  it("typed compile never rejects what it later evaluates without a type error... or names the place", () => {
    fc.assert(
      fc.property(expr, (src) => {
        try {
          compile(src);
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          expect(e.offset).toBeGreaterThanOrEqual(0);
          expect(e.offset).toBeLessThanOrEqual(src.length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
