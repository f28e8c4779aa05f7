import { describe, expect, it } from "vitest";
import { emptyFacts } from "../../probe/facts.js";
import { gpu, host, port } from "../testing/hosts.js";
import { ExpressionError, LIMITS, compile, evaluate, parseVersion, compareVersions } from "./index.js";

const gpuHost = host("gpu-01", {
  gpus: [gpu(0), gpu(1), gpu(2, "NVIDIA H100 80GB HBM3", 81559), gpu(3, "Tesla T4", 15360, null)],
  gpuDriver: { version: "535.54.03", cudaVersion: "12.2" },
  rdma: [port("mlx5_0", "InfiniBand"), port("mlx5_1", "InfiniBand", "DOWN")],
});
const cpuHost = host("cpu-01");
const blank = emptyFacts("blank-01");

function run(src: string, root: object = gpuHost, vars: Record<string, unknown> = {}) {
  return compile(src, { types: { rootFields: undefined as never, vars: undefined } as never }).evaluate({ root, vars });
}
function catchErr(f: () => unknown): ExpressionError {
  try {
    f();
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error("expected an ExpressionError");
}

describe("issue examples", () => {
  const cases: [string, object, unknown][] = [
    ['gpus.count(g => g.memoryMiB >= 40960 && g.model =~ "A100|H100") >= 1', gpuHost, true],
    ['gpus.count(g => g.memoryMiB >= 40960 && g.model =~ "A100|H100")', gpuHost, 3],
    ['gpus.count(g => g.memoryMiB >= 40960 && g.model =~ "A100|H100") >= 1', cpuHost, false],
    ['rdma.any(p => p.linkLayer == "InfiniBand" && p.state == "ACTIVE")', gpuHost, true],
    ['rdma.any(p => p.linkLayer == "InfiniBand" && p.state == "ACTIVE")', cpuHost, false],
    ['os.id in ["ubuntu","rocky","debian","openEuler","kylin"]', gpuHost, true],
    ['os.id in ["rocky"]', gpuHost, false],
    ["memory.totalBytes >= 64Gi", gpuHost, true],
    ["memory.totalBytes >= 1Pi", gpuHost, false],
    ['semver(gpuDriver.version) >= "535.0"', gpuHost, true],
    ['semver(gpuDriver.version) >= "570.26"', gpuHost, false],
    ['semver(gpuDriver.version) >= "535.0"', cpuHost, false],
  ];
  it.each(cases)("%s", (src, root, want) => {
    expect(compile(src).evaluate({ root })).toEqual(want);
  });
});

describe("values and operators", () => {
  const cases: [string, unknown][] = [
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["10 / 4", 2.5],
    ["10 % 4", 2],
    ["-3 + 1", -2],
    ["- (2 * 3)", -6],
    ["1Ki", 1024],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["2Ti", 2 * 2 ** 40],
    ["1Pi", 2 ** 50],
    ["3k", 3000],
    ["4M", 4e6],
    ["5G", 5e9],
    ["6T", 6e12],
    ["1e3", 1000],
    [".5", 0.5],
    ['"a" + "b"', "ab"],
    ["'single' + \"double\"", "singledouble"],
    ['"tab\\tnew\\nline"', "tab\tnew\nline"],
    ['"\\u0041"', "A"],
    ["true && false", false],
    ["true || false", true],
    ["!true", false],
    ["!null", true],
    ["null == null", true],
    ["1 == null", false],
    ["1 != null", true],
    ["null < 1", false],
    ["null >= 1", false],
    ["null + 1", null],
    ["1 / 0", null],
    ["5 % 0", null],
    ["null ?? 5", 5],
    ["3 ?? 5", 3],
    ["true ? 1 : 2", 1],
    ["null ? 1 : 2", 2],
    ["false ? 1 : true ? 2 : 3", 2],
    ["[1, 2, 3]", [1, 2, 3]],
    ["[1, 2,]", [1, 2]],
    ["[]", []],
    ["2 in [1, 2]", true],
    ['"ub" in "ubuntu"', true],
    ["null in [null]", false],
    ["[1, 2] + [3]", [1, 2, 3]],
    ['"abc" < "abd"', true],
    ["[1, [2]] == [1, [2]]", true],
    ['"x" =~ "^x$"', true],
    ['"x" !~ "^y"', true],
    ["1 < 2 && 2 < 3", true],
  ];
  it.each(cases)("%s", (src, want) => {
    expect(evaluate(src)).toEqual(want);
  });
});

describe("member access, indexing and null safety", () => {
  const cases: [string, object, unknown][] = [
    ["gpus[0].model", gpuHost, "NVIDIA A100-SXM4-80GB"],
    ["gpus[-1].model", gpuHost, "Tesla T4"],
    ["gpus[10].model", gpuHost, null],
    ["gpus.count()", blank, 0],
    ['gpus.count(g => g.model =~ "A100")', blank, 0],
    ["gpuDriver.version", blank, null],
    ["gpuDriver?.version", blank, null],
    ["os.id", blank, null],
    ["memory.totalBytes >= 1Gi", blank, false],
    ["memory.totalBytes < 1Gi", blank, false],
    ["!(memory.totalBytes >= 1Gi)", blank, true],
    ["os.nothing", gpuHost, null],
    ['os["id"]', gpuHost, "ubuntu"],
    ["os.id[0]", gpuHost, "u"],
    ["unknownName", gpuHost, null],
    ["unknownName.field.deeper", gpuHost, null],
    ["constructor", gpuHost, null],
    ["os.constructor", gpuHost, null],
    ["os.__proto__", gpuHost, null],
    ["system.listeningPorts.map(p => p.port)", gpuHost, [22]],
  ];
  it.each(cases)("%s", (src, root, want) => {
    expect(run(src, root)).toEqual(want);
  });
});

describe("functions", () => {
  const cases: [string, object, unknown][] = [
    ["gpus.len()", gpuHost, 4],
    ["len(gpus)", gpuHost, 4],
    ["gpus.size()", gpuHost, 4],
    ["len(gpuDriver)", blank, 0],
    ['len("abc")', gpuHost, 3],
    ["gpus.any()", gpuHost, true],
    ["gpus.any()", blank, false],
    ['gpus.all(g => g.vendor == "nvidia")', gpuHost, true],
    ['gpus.all(g => g.vendor == "amd")', blank, true],
    ["gpus.filter(g => g.memoryMiB > 20000).len()", gpuHost, 3],
    ["gpus.map(g => g.index)", gpuHost, [0, 1, 2, 3]],
    ["gpus.sum(g => g.memoryMiB)", gpuHost, 81920 * 2 + 81559 + 15360],
    ["[1, null, 2].sum()", gpuHost, 3],
    ["gpus.min(g => g.memoryMiB)", gpuHost, 15360],
    ["gpus.max(g => g.memoryMiB)", gpuHost, 81920],
    ["gpus.max(g => g.memoryMiB)", blank, null],
    ["max(1, 5, 3)", gpuHost, 5],
    ["min(4, 2)", gpuHost, 2],
    ["[3, 1, 2].min()", gpuHost, 1],
    ['gpus.first(g => g.model =~ "H100").index', gpuHost, 2],
    ["gpus.map(g => g.model).unique().len()", gpuHost, 3],
    ['["a", "b"].contains("b")', gpuHost, true],
    ['contains("abc", "bc")', gpuHost, true],
    ['lower("ABC")', gpuHost, "abc"],
    ['"abc".upper()', gpuHost, "ABC"],
    ['os.id.startsWith("ubu")', gpuHost, true],
    ['endsWith(kernel, "generic")', gpuHost, true],
    ['trim("  x ")', gpuHost, "x"],
    ['"a,b,c".split(",")', gpuHost, ["a", "b", "c"]],
    ['number("25 GB")', gpuHost, 25],
    ['number("x")', gpuHost, null],
    ["bytes(64Gi)", gpuHost, "64 GiB"],
    ["bytes(1536Mi)", gpuHost, "1.5 GiB"],
    ['["a", 1, true].join(" / ")', gpuHost, "a / 1 / yes"],
    ["major(gpuDriver.version)", gpuHost, 535],
    ["minor(gpuDriver.version)", gpuHost, 54],
    ['versionAtLeast(gpuDriver.version, "535.54")', gpuHost, true],
    ['versionAtLeast(gpuDriver.version, "535.104.05")', gpuHost, false],
    ['compareVersions("1.30.2", "v1.30.2")', gpuHost, 0],
    ['semver("1.31.0-rc.1") < "1.31.0"', gpuHost, true],
    ['semver(kernel) >= "5.4"', gpuHost, true],
    ['semver("abc") >= "1.0"', gpuHost, false],
    ['semver(gpuDriver.version) == "535.54.3"', gpuHost, true],
    ["coalesce(null, gpuDriver.version, 3)", blank, 3],
    ["abs(-2) + floor(1.7) + ceil(1.2) + round(1.5)", gpuHost, 7],
    ['string(1) + "x"', gpuHost, "1x"],
  ];
  it.each(cases)("%s", (src, root, want) => {
    expect(run(src, root)).toEqual(want);
  });

  it("nested lambdas see the outer parameter and the root", () => {
    expect(run("rdma.any(p => gpus.any(g => g.index == p.port))", gpuHost)).toBe(true);
    expect(run("gpus.all(g => memory.totalBytes > 0)", gpuHost)).toBe(true);
  });

  it("variables come before host fields", () => {
    expect(run("host", gpuHost, { host: "override" })).toBe("override");
    expect(run('"gpu" in roles', gpuHost, { roles: ["gpu"] })).toBe(true);
  });

  it("host functions are called with evaluated arguments", () => {
    const c = compile("double(memory.totalBytes / 1Gi)", {
      types: { rootFields: undefined, functions: { double: { params: ["number"], returns: "number", doc: "x2", call: (n) => (n as number) * 2 } } },
    });
    expect(c.evaluate({ root: gpuHost, functions: { double: { params: ["number"], returns: "number", doc: "x2", call: (n) => (n as number) * 2 } } })).toBe(1024);
  });
});

describe("regular expressions (safe subset)", () => {
  const cases: [string, string, boolean][] = [
    ["A100|H100", "NVIDIA A100-SXM4-80GB", true],
    ["^NVIDIA", "NVIDIA A100", true],
    ["^A100", "NVIDIA A100", false],
    ["80GB$", "NVIDIA A100-SXM4-80GB", true],
    ["(?i)nvidia", "NVIDIA", true],
    ["nvidia", "NVIDIA", false],
    ["[0-9]+GB", "A100-SXM4-80GB", true],
    ["[^a-z]", "abc", false],
    ["\\d{3}\\.\\d+", "535.54", true],
    ["^(a|b)*c$", "ababc", true],
    ["^(a|b)*c$", "ababd", false],
    ["x{2,3}", "axxb", true],
    ["x{2,3}", "axb", false],
    ["colou?r", "color", true],
    ["(?:ab)+", "xabab", true],
    ["a.c", "abc", true],
    ["\\w+\\s\\w+", "hello world", true],
    ["[\\d.]+", "v1.2", true],
    ["", "anything", true],
  ];
  it.each(cases)("%s on %s", (pattern, subject, want) => {
    expect(evaluate(`s =~ ${JSON.stringify(pattern)}`, { vars: { s: subject } })).toBe(want);
    // agrees with JavaScript's engine on this subset
    const js = new RegExp(pattern.replace(/^\(\?i\)/, ""), pattern.startsWith("(?i)") ? "i" : "").test(subject);
    expect(js).toBe(want);
  });

  it("a catastrophic pattern runs in linear time", () => {
    const subject = "a".repeat(5000) + "!";
    expect(evaluate('s =~ "^(a+)+$"', { vars: { s: subject } })).toBe(false);
    expect(evaluate('s =~ "^(a|aa)*$"', { vars: { s: subject } })).toBe(false);
    expect(evaluate('s =~ "(x+x+)+y"', { vars: { s: "x".repeat(5000) } })).toBe(false);
  });

  it("regex work counts against the step budget", () => {
    const e = catchErr(() => compile('s =~ "^(a|b|c|d)*e"', { types: false }).evaluate({ vars: { s: "abcd".repeat(5000) }, maxSteps: 10_000 }));
    expect(e.code).toBe("E_EXPR_LIMIT");
  });

  const bad: [string, string][] = [
    ["(a", "unclosed group"],
    ["a)", "unmatched ')'"],
    ["*a", "nothing to repeat"],
    ["a**", "cannot follow another quantifier"],
    ["(?=a)", "lookaround"],
    ["(a)\\1", "backreferences"],
    ["\\bword", "word boundaries"],
    ["[z-a]", "out of order"],
    ["[abc", "unclosed character class"],
    ["a{5,2}", "below the minimum"],
    ["a{1000}", "above 100"],
    ["(((a{100}){100}){100})", "states"],
  ];
  it.each(bad)("rejects %s", (pattern, msg) => {
    const e = catchErr(() => compile(`os.id =~ ${JSON.stringify(pattern)}`));
    expect(["E_EXPR_SYNTAX", "E_EXPR_LIMIT"]).toContain(e.code);
    expect(e.message).toContain(msg);
  });

  it("rejects a pattern over the length limit", () => {
    const e = catchErr(() => compile(`os.id =~ "${"a".repeat(LIMITS.maxRegexLength + 1)}"`));
    expect(e.code).toBe("E_EXPR_LIMIT");
  });

  it("requires a literal pattern", () => {
    const e = catchErr(() => compile("os.id =~ os.id"));
    expect(e.code).toBe("E_EXPR_SYNTAX");
    expect(e.column).toBe(10);
  });
});

describe("versions", () => {
  const cases: [string, string, number][] = [
    ["535.54.03", "535.54.3", 0],
    ["535.104.05", "535.54.03", 1],
    ["12.8", "12.10", -1],
    ["v1.30.2", "1.30.10", -1],
    ["1.31.0-rc.1", "1.31.0", -1],
    ["1.31.0-rc.2", "1.31.0-rc.10", -1],
    ["5.15.0-25-generic", "5.15.0-105-generic", -1],
    ["4.18.0-477.10.1.el8_8.x86_64", "4.18.0", 1],
    ["5.8-1.0.1.1", "5.8-3.0.7.0", -1],
    ["570.26", "570.124.06", -1],
  ];
  it.each(cases)("%s vs %s", (a, b, want) => {
    const va = parseVersion(a);
    const vb = parseVersion(b);
    expect(va && vb && compareVersions(va, vb)).toBe(want);
  });
  it("rejects text without a leading number", () => {
    expect(parseVersion("abc")).toBeNull();
    expect(parseVersion("")).toBeNull();
  });
});

describe("errors carry line:column and a caret", () => {
  const cases: [string, string, number, number, string][] = [
    // source, code, line, column, message fragment
    ["memory.totalBytes >= 64Gb", "E_EXPR_SYNTAX", 1, 24, "unknown unit suffix 'Gb'"],
    ['os.id == "ubuntu', "E_EXPR_SYNTAX", 1, 10, "unterminated string"],
    ["os.id = 1", "E_EXPR_SYNTAX", 1, 7, "single '='"],
    ["a & b", "E_EXPR_SYNTAX", 1, 3, "single '&'"],
    ["1 +", "E_EXPR_SYNTAX", 1, 4, "incomplete"],
    ["(1 + 2", "E_EXPR_SYNTAX", 1, 7, "expected ')'"],
    ["1 < 2 < 3", "E_EXPR_SYNTAX", 1, 7, "cannot be chained"],
    ["g => g.x", "E_EXPR_SYNTAX", 1, 1, "lambda"],
    ["1 2", "E_EXPR_SYNTAX", 1, 3, "after a complete expression"],
    ["os.", "E_EXPR_SYNTAX", 1, 4, "field or method name"],
    ["gpus.count(g => g.memoryMiB >= 40960 &&\n  g.modle =~ \"A100\")", "E_EXPR_TYPE", 2, 5, "no field 'modle' (did you mean 'model'?)"],
    ["gpu.count() > 0", "E_EXPR_TYPE", 1, 1, "unknown name 'gpu' (did you mean 'gpus'?)"],
    ["memory.total >= 1", "E_EXPR_TYPE", 1, 8, "did you mean 'totalBytes'?"],
    ['memory.totalBytes >= "64"', "E_EXPR_TYPE", 1, 19, "cannot compare number with string"],
    ['gpus.model =~ "A100"', "E_EXPR_TYPE", 1, 6, "cannot read field 'model' of a list"],
    ["gpus.all()", "E_EXPR_TYPE", 1, 6, "takes 2 arguments"],
    ["gpus.count(g => g.memoryMiB)", "E_EXPR_TYPE", 1, 17, "must give true or false"],
    ["lowr(os.id)", "E_EXPR_TYPE", 1, 1, "did you mean 'lower'?"],
    ['semver(kernel) >= "abc"', "E_EXPR_TYPE", 1, 19, "is not a version"],
    ["memory.totalBytes + true", "E_EXPR_TYPE", 1, 21, "needs numbers"],
    ['os.id && true', "E_EXPR_TYPE", 1, 1, "true or false"],
    ["1e400", "E_EXPR_LIMIT", 1, 1, "out of range"],
    ["999999999999999999999Gi", "E_EXPR_LIMIT", 1, 1, "out of range"],
    ["9007199254740993", "E_EXPR_LIMIT", 1, 1, "out of range"],
    ["1" + "0".repeat(60), "E_EXPR_LIMIT", 1, 1, "digits"],
    ["os.id ^ 2", "E_EXPR_SYNTAX", 1, 7, "unexpected character '^'"],
  ];
  it.each(cases)("%s", (src, code, line, column, msg) => {
    const e = catchErr(() => compile(src));
    expect(e.code).toBe(code);
    expect(e.message).toContain(msg);
    expect([e.line, e.column]).toEqual([line, column]);
    const caretLine = e.snippet.split("\n")[1] as string;
    expect(caretLine.indexOf("^")).toBe(column - 1);
    expect(e.format()).toContain(`<expression>:${line}:${column}`);
  });

  it("the file name appears in the location", () => {
    const e = catchErr(() => compile("1 +", { file: "services/ai/service.yaml" }));
    expect(e.format()).toContain("services/ai/service.yaml:1:4");
  });

  it("requirements must be boolean", () => {
    const e = catchErr(() => compile("memory.totalBytes", { expect: "bool" }));
    expect(e.code).toBe("E_EXPR_TYPE");
    expect(e.remedy).toContain(">= 64Gi");
  });

  it("runtime type errors point at the operand", () => {
    const e = catchErr(() => evaluate('"a" * 2'));
    expect(e.code).toBe("E_EXPR_TYPE");
    expect(e.column).toBe(5);
  });

  it("runtime overflow is a limit error", () => {
    const e = catchErr(() => evaluate("9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000 * 9000000000000000"));
    expect(e.code).toBe("E_EXPR_LIMIT");
  });
});

describe("hostile input fails fast with a clear error", () => {
  it("10,000 nested parentheses", () => {
    const e = catchErr(() => compile("(".repeat(10_000) + "1" + ")".repeat(10_000)));
    expect(e.code).toBe("E_EXPR_LIMIT");
  });
  it("deep nesting within the length limit", () => {
    const e = catchErr(() => compile("(".repeat(4000) + "1" + ")".repeat(4000)));
    expect(e.code).toBe("E_EXPR_LIMIT");
    expect(e.message).toContain("nested");
  });
  it("deep unary chains", () => {
    expect(catchErr(() => compile("!".repeat(5000) + "true")).code).toBe("E_EXPR_LIMIT");
    expect(catchErr(() => compile("-".repeat(5000) + "1")).code).toBe("E_EXPR_LIMIT");
  });
  it("long flat chains (a tree that would be deep)", () => {
    expect(catchErr(() => compile(Array(3000).fill("1").join("+"))).code).toBe("E_EXPR_LIMIT");
    expect(catchErr(() => compile("os" + ".id".repeat(2500))).code).toBe("E_EXPR_LIMIT");
    expect(catchErr(() => compile("[" + "1,".repeat(4000) + "1]")).code).toBe("E_EXPR_LIMIT");
  });
  it("a 1 MB expression is refused before lexing", () => {
    const t = performance.now();
    const e = catchErr(() => compile("1+".repeat(512 * 1024) + "1"));
    expect(e.code).toBe("E_EXPR_LIMIT");
    expect(e.message).toContain("characters long");
    expect(performance.now() - t).toBeGreaterThanOrEqual(0);
  });
  it("a huge string literal", () => {
    expect(catchErr(() => compile('"' + "x".repeat(2_000_000) + '"')).code).toBe("E_EXPR_LIMIT");
  });
  it("step budget stops quadratic work", () => {
    const many = Array.from({ length: 2000 }, (_, i) => i);
    const e = catchErr(() => compile("xs.all(a => xs.all(b => xs.any(c => c == a + b) || true))", { types: false }).evaluate({ vars: { xs: many } }));
    expect(e.code).toBe("E_EXPR_LIMIT");
    expect(e.message).toContain("steps");
  });
  it("string doubling is bounded", () => {
    const e = catchErr(() => compile("xs.map(x => s + s + s + s + s + s + s + s)", { types: false }).evaluate({ vars: { xs: [1], s: "y".repeat(10_000) } }));
    expect(e.code).toBe("E_EXPR_LIMIT");
  });
  it("a NUL byte and other control characters", () => {
    expect(catchErr(() => compile("os.id\u0000")).code).toBe("E_EXPR_SYNTAX");
    expect(catchErr(() => compile("\u202eos.id")).message).toContain("U+202E");
  });
});

describe("docs/expressions.md", () => {
  it("every example compiles against HostFacts and the preflight names", async () => {
    const { readFileSync } = await import("node:fs");
    const { CHECK_TYPES } = await import("../preflight.js");
    const doc = readFileSync(new URL("../../../../docs/expressions.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1] as string).filter((b) => !b.includes("[E_EXPR_"));
    const examples = blocks
      .flatMap((b) => (b.includes("#") ? b.split(/\n(?=#)|\n\n/) : b.split("\n")))
      .map((chunk) => chunk.split("\n").filter((l) => !l.startsWith("#") && l.trim() !== "").join("\n"))
      .filter((src) => src !== "");
    expect(examples.length).toBeGreaterThan(10);
    for (const src of examples) expect(() => compile(src, { types: CHECK_TYPES }), src).not.toThrow();
  });
});
