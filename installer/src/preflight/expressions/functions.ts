// The built-in functions: each callable as f(x, ...) or x.f(...); collection functions take a lambda.
import { ANY, BOOL, NUMBER, STRING, VERSION, listOf, tyName, type Ty } from "./types.js";
import { LIMITS } from "./limits.js";
import { Version, compareVersions, formatBytes, display, parseVersion, typeName, type Value } from "./values.js";

/** Why an argument is wrong: the checker and the evaluator both turn this into E_EXPR_TYPE at that argument. */
export class ArgumentIssue extends Error {
  constructor(
    readonly argIndex: number,
    message: string,
  ) {
    super(message);
  }
}

/** How an argument at position 1 may be a lambda: required, optional, or never. */
export type LambdaUse = "required" | "optional" | "none";

/** One built-in: arity, lambda use, the static return type, and (for non-collection functions) the implementation. */
export interface FunctionSpec {
  min: number;
  max: number;
  lambda: LambdaUse;
  /** What the function does, for docs and `did you mean`. */
  doc: string;
  /** Return type from argument types (lambda body type in place of a lambda). */
  returns(args: Ty[]): Ty;
  /** Implementation for functions without lambdas; collection functions are evaluated in evaluate.ts. */
  call?: (args: Value[], tick: (n: number) => void) => Value;
}

const elem = (t: Ty | undefined): Ty => (t && t.k === "list" ? t.of : ANY);
const isListish = (t: Ty | undefined) => !t || t.k === "list" || t.k === "any" || t.k === "null";
const requireList = (name: string) => (args: Ty[]) => {
  if (!isListish(args[0])) throw new ArgumentIssue(0, `${name}() needs a list, found ${tyName(args[0] as Ty)}`);
};
const requireKind = (fn: string, i: number, args: Ty[], ...kinds: Ty["k"][]) => {
  const t = args[i];
  if (t && t.k !== "any" && t.k !== "null" && !kinds.includes(t.k)) {
    throw new ArgumentIssue(i, `${fn}() argument ${i + 1} must be ${kinds.join(" or ")}, found ${tyName(t)}`);
  }
};

function str(v: Value, fn: string, i: number): string | null {
  if (v === null) return null;
  if (typeof v !== "string") throw new ArgumentIssue(i, `${fn}() argument ${i + 1} must be a string, found ${typeName(v)}`);
  return v;
}
function num(v: Value, fn: string, i: number): number | null {
  if (v === null) return null;
  if (typeof v !== "number") throw new ArgumentIssue(i, `${fn}() argument ${i + 1} must be a number, found ${typeName(v)}`);
  return v;
}
/** A version from a Version or a string; null when absent or unparseable (the comparison then fails). */
export function toVersion(v: Value, fn: string, i: number): Version | null {
  if (v === null) return null;
  if (v instanceof Version) return v;
  if (typeof v === "string") return parseVersion(v);
  if (typeof v === "number") return parseVersion(String(v));
  throw new ArgumentIssue(i, `${fn}() argument ${i + 1} must be a version string, found ${typeName(v)}`);
}

const stringFn = (doc: string, f: (s: string, rest: Value[]) => Value, extra = 0, extraKinds: Ty["k"][] = ["string"], ret: Ty = STRING): FunctionSpec => ({
  min: 1 + extra,
  max: 1 + extra,
  lambda: "none",
  doc,
  returns: (args) => {
    requireKind("function", 0, args, "string");
    for (let i = 1; i <= extra; i++) requireKind("function", i, args, ...extraKinds);
    return ret;
  },
  call: (args) => {
    const s = str(args[0] ?? null, "function", 0);
    if (s === null) return null;
    for (let i = 1; i <= extra; i++) if ((args[i] ?? null) === null) return null;
    return f(s, args.slice(1));
  },
});

/** Built-in functions by name. Collection functions (lambda ≠ "none" or listed in COLLECTION) are evaluated specially. */
export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  // collections
  len: { min: 1, max: 1, lambda: "none", doc: "number of elements of a list or characters of a string; 0 for null", returns: (a) => (requireKind("len", 0, a, "list", "string", "object"), NUMBER) },
  size: { min: 1, max: 1, lambda: "none", doc: "same as len()", returns: (a) => (requireKind("size", 0, a, "list", "string", "object"), NUMBER) },
  count: { min: 1, max: 2, lambda: "optional", doc: "number of elements (matching the lambda); 0 for null", returns: (a) => (requireList("count")(a), NUMBER) },
  any: { min: 1, max: 2, lambda: "optional", doc: "true when some element matches (or, without a lambda, the list is not empty)", returns: (a) => (requireList("any")(a), BOOL) },
  all: { min: 2, max: 2, lambda: "required", doc: "true when every element matches; true for an empty list", returns: (a) => (requireList("all")(a), BOOL) },
  filter: { min: 2, max: 2, lambda: "required", doc: "the elements that match", returns: (a) => (requireList("filter")(a), listOf(elem(a[0]))) },
  map: { min: 2, max: 2, lambda: "required", doc: "the lambda's value for each element", returns: (a) => (requireList("map")(a), listOf(a[1] ?? ANY)) },
  first: { min: 1, max: 2, lambda: "optional", doc: "the first (matching) element, or null", returns: (a) => (requireList("first")(a), elem(a[0])) },
  sum: { min: 1, max: 2, lambda: "optional", doc: "sum of the numbers (or of the lambda's values); nulls are skipped", returns: (a) => (requireList("sum")(a), NUMBER) },
  min: { min: 1, max: 16, lambda: "optional", doc: "smallest of a list (or of the lambda's values), or of several numbers; null when empty", returns: minMaxType("min") },
  max: { min: 1, max: 16, lambda: "optional", doc: "largest of a list (or of the lambda's values), or of several numbers; null when empty", returns: minMaxType("max") },
  unique: { min: 1, max: 1, lambda: "none", doc: "the distinct values of a list, in first-seen order", returns: (a) => (requireList("unique")(a), listOf(elem(a[0]))) },
  sort: { min: 1, max: 1, lambda: "none", doc: "the list's numbers or strings in ascending order (nulls dropped)", returns: (a) => (requireList("sort")(a), listOf(elem(a[0]))) },
  contains: {
    min: 2,
    max: 2,
    lambda: "none",
    doc: "true when a list holds the value or a string holds the substring",
    returns: (a) => (requireKind("contains", 0, a, "list", "string"), BOOL),
  },
  join: {
    min: 1,
    max: 2,
    lambda: "none",
    doc: "the list's values as text joined by the separator (default \", \")",
    returns: (a) => (requireList("join")(a), a[1] && requireKind("join", 1, a, "string"), STRING),
    call: (args, tick) => {
      const list = args[0] ?? null;
      if (list === null) return "";
      if (!Array.isArray(list)) throw new ArgumentIssue(0, `join() needs a list, found ${typeName(list)}`);
      const sep = args.length > 1 ? str(args[1] ?? null, "join", 1) ?? ", " : ", ";
      tick(list.length);
      const out = list.map((v) => display(v)).join(sep);
      if (out.length > LIMITS.maxStringLength) throw new ArgumentIssue(0, `join() would build a string longer than ${LIMITS.maxStringLength} characters`);
      return out;
    },
  },
  // strings
  lower: stringFn("lower-case copy of a string", (s) => s.toLowerCase()),
  upper: stringFn("upper-case copy of a string", (s) => s.toUpperCase()),
  trim: stringFn("the string without leading and trailing white space", (s) => s.trim()),
  startsWith: stringFn("true when the string starts with the prefix", (s, [p]) => s.startsWith(p as string), 1, ["string"], BOOL),
  endsWith: stringFn("true when the string ends with the suffix", (s, [p]) => s.endsWith(p as string), 1, ["string"], BOOL),
  split: stringFn("the string cut at each separator (at most 1000 pieces)", (s, [sep]) => s.split(sep as string, 1000), 1, ["string"], listOf(STRING)),
  number: {
    min: 1,
    max: 1,
    lambda: "none",
    doc: "the number a string starts with (\"25 GB\" → 25), or null",
    returns: () => NUMBER,
    call: (args) => {
      const v = args[0] ?? null;
      if (typeof v === "number") return v;
      if (typeof v !== "string") return null;
      const m = /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(v);
      const n = m ? Number(m[0]) : NaN;
      return Number.isFinite(n) ? n : null;
    },
  },
  string: { min: 1, max: 1, lambda: "none", doc: "the value as text", returns: () => STRING, call: (args) => (args[0] === null ? null : display(args[0] ?? null)) },
  bytes: {
    min: 1,
    max: 1,
    lambda: "none",
    doc: "a byte count as readable text (\"64 GiB\")",
    returns: (a) => (requireKind("bytes", 0, a, "number"), STRING),
    call: (args) => {
      const n = num(args[0] ?? null, "bytes", 0);
      return n === null ? null : formatBytes(n);
    },
  },
  // versions
  semver: versionFn("semver"),
  version: versionFn("version"),
  major: partFn(0),
  minor: partFn(1),
  patch: partFn(2),
  versionAtLeast: {
    min: 2,
    max: 2,
    lambda: "none",
    doc: "true when the first version is the same as or newer than the second",
    returns: (a) => (requireKind("versionAtLeast", 0, a, "string", "version"), requireKind("versionAtLeast", 1, a, "string", "version"), BOOL),
    call: (args) => {
      const a = toVersion(args[0] ?? null, "versionAtLeast", 0);
      const b = toVersion(args[1] ?? null, "versionAtLeast", 1);
      return a === null || b === null ? false : compareVersions(a, b) >= 0;
    },
  },
  compareVersions: {
    min: 2,
    max: 2,
    lambda: "none",
    doc: "-1, 0 or 1 as the first version is older than, equal to or newer than the second; null if either is missing",
    returns: (a) => (requireKind("compareVersions", 0, a, "string", "version"), requireKind("compareVersions", 1, a, "string", "version"), NUMBER),
    call: (args) => {
      const a = toVersion(args[0] ?? null, "compareVersions", 0);
      const b = toVersion(args[1] ?? null, "compareVersions", 1);
      return a === null || b === null ? null : compareVersions(a, b);
    },
  },
  // numbers
  abs: mathFn("absolute value", Math.abs),
  floor: mathFn("round down", Math.floor),
  ceil: mathFn("round up", Math.ceil),
  round: mathFn("round to the nearest integer", Math.round),
  coalesce: {
    min: 1,
    max: 16,
    lambda: "none",
    doc: "the first argument that is not null",
    returns: (a) => a.find((t) => t.k !== "null") ?? ANY,
    call: (args) => args.find((v) => v !== null) ?? null,
  },
};

/** Functions whose evaluation needs the evaluator (lambdas, element iteration). */
export const COLLECTION_FUNCTIONS = new Set(["len", "size", "count", "any", "all", "filter", "map", "first", "sum", "min", "max", "unique", "sort", "contains"]);

function versionFn(name: string): FunctionSpec {
  return {
    min: 1,
    max: 1,
    lambda: "none",
    doc: "parses a version (\"535.54.03\", \"v1.30.2\", \"5.8-1.0.1.1\") for comparison with <, >=, ...; null if absent or not a version",
    returns: (a) => (requireKind(name, 0, a, "string", "version", "number"), VERSION),
    call: (args) => toVersion(args[0] ?? null, name, 0),
  };
}
function partFn(i: number): FunctionSpec {
  const name = ["major", "minor", "patch"][i] as string;
  return {
    min: 1,
    max: 1,
    lambda: "none",
    doc: `the ${name} number of a version, or null`,
    returns: (a) => (requireKind(name, 0, a, "string", "version"), NUMBER),
    call: (args) => toVersion(args[0] ?? null, name, 0)?.parts[i] ?? null,
  };
}
function mathFn(doc: string, f: (n: number) => number): FunctionSpec {
  return {
    min: 1,
    max: 1,
    lambda: "none",
    doc,
    returns: (a) => (requireKind("function", 0, a, "number"), NUMBER),
    call: (args) => {
      const n = num(args[0] ?? null, "function", 0);
      return n === null ? null : f(n);
    },
  };
}
function minMaxType(name: string) {
  return (a: Ty[]): Ty => {
    if (a.length === 1) {
      requireList(name)(a);
      return elem(a[0]).k === "any" ? ANY : NUMBER;
    }
    for (let i = 0; i < a.length; i++) if (i > 0 || a[0]?.k !== "list") requireKind(name, i, a, "number", "version", "string");
    return NUMBER;
  };
}
