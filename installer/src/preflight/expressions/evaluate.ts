// Tree-walking evaluator with null-safe access and a step budget; never uses eval or Function.
import type { Node } from "./ast.js";
import { ExpressionError, type Span } from "./errors.js";
import { ArgumentIssue, COLLECTION_FUNCTIONS, FUNCTIONS, toVersion } from "./functions.js";
import { LIMITS } from "./limits.js";
import type { TypeSpec } from "./types.js";
import { Version, compareVersions, display, normalize, typeName, type Value } from "./values.js";

/** A function the caller adds to the language (e.g. compatibility-matrix lookups). */
export interface HostFunction {
  params: TypeSpec[];
  /** Trailing parameters that may be left out. */
  optional?: number;
  returns: TypeSpec;
  doc: string;
  call(...args: Value[]): Value;
}

/** What names mean during one evaluation: `vars` first, then fields of `root` (a HostFacts). */
export interface EvalEnv {
  root?: object | null;
  vars?: Readonly<Record<string, unknown>>;
  functions?: Readonly<Record<string, HostFunction>>;
  maxSteps?: number;
  /** Filled with the steps the evaluation used (also when it fails), for tests and benchmarks. */
  stats?: { steps: number };
}

interface Scope {
  name: string;
  value: Value;
  parent: Scope | null;
}

/** Thrown inside one evaluation when the step budget runs out; turned into E_EXPR_LIMIT at the top. */
class LimitHit extends Error {}

/** Evaluates a parsed expression; errors are ExpressionError pointing into `source`. */
export function evaluateNode(root: Node, source: string, env: EvalEnv, file?: string): Value {
  const maxSteps = env.maxSteps ?? LIMITS.maxSteps;
  let steps = 0;
  const tick = (n: number) => {
    steps += n;
    if (steps > maxSteps) throw new LimitHit();
  };
  const typeError = (msg: string, span: Span): never => {
    throw new ExpressionError("E_EXPR_TYPE", msg, source, span, file ? { file } : {});
  };
  const rootObj = env.root ?? null;
  const vars = env.vars ?? {};

  try {
    return ev(root, null);
  } catch (e) {
    if (e instanceof LimitHit) {
      throw new ExpressionError("E_EXPR_LIMIT", `evaluation took more than ${maxSteps} steps`, source, root, {
        ...(file ? { file } : {}),
        remedy: "simplify the expression (nested lambdas over large lists multiply the work)",
      });
    }
    throw e;
  } finally {
    if (env.stats) env.stats.steps = steps;
  }

  function ev(node: Node, scope: Scope | null): Value {
    tick(1);
    switch (node.type) {
      case "literal":
        return node.value;
      case "list": {
        const out: Value[] = [];
        for (const item of node.items) out.push(ev(item, scope));
        return out;
      }
      case "ident":
        return lookup(node.name, scope);
      case "member":
        return member(ev(node.object, scope), node.name, node);
      case "index":
        return index(ev(node.object, scope), ev(node.index, scope), node);
      case "lambda":
        return typeError("a lambda can only be an argument of a collection function", node);
      case "unary": {
        const v = ev(node.operand, scope);
        if (node.op === "!") return !truthy(v, node.operand);
        if (v === null) return null;
        if (typeof v !== "number") return typeError(`'-' needs a number, found ${typeName(v)}`, node);
        return -v;
      }
      case "conditional":
        return truthy(ev(node.test, scope), node.test) ? ev(node.then, scope) : ev(node.otherwise, scope);
      case "match": {
        const v = ev(node.subject, scope);
        if (v === null) return false;
        if (typeof v !== "string") return typeError(`'${node.negate ? "!~" : "=~"}' needs a string on its left, found ${typeName(v)}`, node.subject);
        const hit = node.regex.test(v, tick);
        return node.negate ? !hit : hit;
      }
      case "binary":
        return binary(node, scope);
      case "call":
        return call(node, scope);
    }
  }

  function lookup(name: string, scope: Scope | null): Value {
    for (let s = scope; s; s = s.parent) if (s.name === name) return s.value;
    if (Object.hasOwn(vars, name)) return normalize(vars[name]);
    if (rootObj && Object.hasOwn(rootObj, name)) return normalize((rootObj as Record<string, unknown>)[name]);
    return null;
  }

  function member(obj: Value, name: string, node: Node & { nameStart?: number }): Value {
    if (obj === null) return null;
    if (typeof obj === "object" && !Array.isArray(obj) && !(obj instanceof Version)) {
      return Object.hasOwn(obj, name) ? normalize((obj as Record<string, unknown>)[name]) : null;
    }
    const hint = Array.isArray(obj) ? ` (a list: use .any(x => x.${name} ...), .map(x => x.${name}) or [0].${name})` : "";
    return typeError(`cannot read field '${name}' of a ${typeName(obj)}${hint}`, node);
  }

  function index(obj: Value, key: Value, node: Node): Value {
    if (obj === null || key === null) return null;
    if (Array.isArray(obj)) {
      if (typeof key !== "number" || !Number.isInteger(key)) return typeError(`a list index must be a whole number, found ${display(key)}`, node);
      return normalize(obj[key < 0 ? obj.length + key : key]);
    }
    if (typeof obj === "string") {
      if (typeof key !== "number" || !Number.isInteger(key)) return typeError(`a string index must be a whole number, found ${display(key)}`, node);
      return obj[key < 0 ? obj.length + key : key] ?? null;
    }
    if (typeof obj === "object" && !(obj instanceof Version)) {
      if (typeof key !== "string") return typeError(`an object key must be a string, found ${typeName(key)}`, node);
      return Object.hasOwn(obj, key) ? normalize((obj as Record<string, unknown>)[key]) : null;
    }
    return typeError(`cannot index a ${typeName(obj)}`, node);
  }

  function truthy(v: Value, node: Node): boolean {
    if (v === null) return false;
    if (typeof v === "boolean") return v;
    return typeError(`expected true or false, found ${typeName(v)} ${display(v)}`, node);
  }

  function binary(node: Extract<Node, { type: "binary" }>, scope: Scope | null): Value {
    const op = node.op;
    if (op === "&&") return truthy(ev(node.left, scope), node.left) ? truthy(ev(node.right, scope), node.right) : false;
    if (op === "||") return truthy(ev(node.left, scope), node.left) ? true : truthy(ev(node.right, scope), node.right);
    if (op === "??") {
      const l = ev(node.left, scope);
      return l !== null ? l : ev(node.right, scope);
    }
    const l = ev(node.left, scope);
    const r = ev(node.right, scope);
    const opSpan = { start: node.opStart, end: node.opStart + op.length };
    switch (op) {
      case "==":
        return equals(l, r);
      case "!=":
        return !equals(l, r);
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const c = compare(l, r, node, opSpan);
        if (c === null) return false;
        return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
      }
      case "in": {
        if (l === null || r === null) return false;
        if (Array.isArray(r)) {
          for (const x of r) {
            tick(1);
            if (equals(l, normalize(x))) return true;
          }
          return false;
        }
        if (typeof r === "string") {
          if (typeof l !== "string") return typeError(`'in' with a string on the right needs a string on the left, found ${typeName(l)}`, node.left);
          return r.includes(l);
        }
        return typeError(`'in' needs a list or a string on its right, found ${typeName(r)}`, node.right);
      }
      case "+":
        if (l === null || r === null) return null;
        if (typeof l === "string" && typeof r === "string") {
          if (l.length + r.length > LIMITS.maxStringLength) {
            throw new ExpressionError("E_EXPR_LIMIT", `string would be longer than ${LIMITS.maxStringLength} characters`, source, opSpan, file ? { file } : {});
          }
          return l + r;
        }
        if (Array.isArray(l) && Array.isArray(r)) {
          if (l.length + r.length > LIMITS.maxListLength) {
            throw new ExpressionError("E_EXPR_LIMIT", `list would be longer than ${LIMITS.maxListLength} elements`, source, opSpan, file ? { file } : {});
          }
          tick(l.length + r.length);
          return [...l, ...r];
        }
        return arith(l, r, node, opSpan);
      default:
        if (l === null || r === null) return null;
        return arith(l, r, node, opSpan);
    }
  }

  function arith(l: Value, r: Value, node: Extract<Node, { type: "binary" }>, opSpan: Span): Value {
    if (typeof l !== "number" || typeof r !== "number") {
      return typeError(`'${node.op}' needs two numbers, found ${typeName(l)} and ${typeName(r)}`, opSpan);
    }
    let v: number;
    switch (node.op) {
      case "+":
        v = l + r;
        break;
      case "-":
        v = l - r;
        break;
      case "*":
        v = l * r;
        break;
      case "/":
        if (r === 0) return null;
        v = l / r;
        break;
      case "%":
        if (r === 0) return null;
        v = l % r;
        break;
      default:
        return typeError(`unknown operator ${node.op}`, opSpan);
    }
    if (!Number.isFinite(v)) {
      throw new ExpressionError("E_EXPR_LIMIT", `arithmetic overflow: the result of '${node.op}' is too large`, source, opSpan, file ? { file } : {});
    }
    return v;
  }

  function equals(a: Value, b: Value, depth = 0): boolean {
    tick(1);
    if (a === null || b === null) return a === b;
    if (a instanceof Version || b instanceof Version) {
      const x = a instanceof Version ? a : typeof a === "string" ? toVersion(a, "==", 0) : null;
      const y = b instanceof Version ? b : typeof b === "string" ? toVersion(b, "==", 1) : null;
      return x !== null && y !== null && compareVersions(x, y) === 0;
    }
    if (typeof a !== "object" || typeof b !== "object") return a === b;
    if (depth > 16) return a === b;
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      return a.every((x, i) => equals(normalize(x), normalize(b[i]), depth + 1));
    }
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && equals(normalize((a as Record<string, unknown>)[k]), normalize((b as Record<string, unknown>)[k]), depth + 1));
  }

  /** Ordering of two values, or null when either is null or an unparseable version (so the comparison is false). */
  function compare(l: Value, r: Value, node: Extract<Node, { type: "binary" }>, opSpan: Span): number | null {
    if (l === null || r === null) return null;
    if (l instanceof Version || r instanceof Version) {
      const x = l instanceof Version ? l : versionOperand(l, node.left);
      const y = r instanceof Version ? r : versionOperand(r, node.right);
      return x === null || y === null ? null : compareVersions(x, y);
    }
    if (typeof l === "number" && typeof r === "number") return l < r ? -1 : l > r ? 1 : 0;
    if (typeof l === "string" && typeof r === "string") return l < r ? -1 : l > r ? 1 : 0;
    return typeError(`cannot order ${typeName(l)} and ${typeName(r)} with '${node.op}'`, opSpan);
  }

  function versionOperand(v: Value, node: Node): Version | null {
    if (typeof v === "string") return toVersion(v, "compare", 0);
    if (typeof v === "number") return toVersion(String(v), "compare", 0);
    return typeError(`cannot compare a version with a ${typeName(v)}`, node);
  }

  function call(node: Extract<Node, { type: "call" }>, scope: Scope | null): Value {
    const host = env.functions && Object.hasOwn(env.functions, node.name) ? env.functions[node.name] : undefined;
    const spec = Object.hasOwn(FUNCTIONS, node.name) ? FUNCTIONS[node.name] : undefined;
    const nameSpan = { start: node.nameStart, end: node.nameStart + node.name.length };
    if (!spec && !host) return typeError(`unknown function '${node.name}'`, nameSpan);
    if (host) {
      const args = node.args.map((a) => ev(a, scope));
      try {
        return normalize(host.call(...args));
      } catch (e) {
        if (e instanceof ExpressionError) throw e;
        return typeError(`${node.name}() failed: ${e instanceof Error ? e.message : String(e)}`, nameSpan);
      }
    }
    const fn = spec!;
    if (node.args.length < fn.min || node.args.length > fn.max) {
      return typeError(`${node.name}() takes ${fn.min === fn.max ? fn.min : `${fn.min} to ${fn.max}`} argument${fn.max === 1 ? "" : "s"}${node.method ? " (counting the value before the dot)" : ""}, found ${node.args.length}`, nameSpan);
    }
    try {
      if (COLLECTION_FUNCTIONS.has(node.name)) return collection(node, scope);
      const args = node.args.map((a) => ev(a, scope));
      return fn.call!(args, tick);
    } catch (e) {
      if (e instanceof ArgumentIssue) {
        const arg = node.args[e.argIndex] ?? node;
        return typeError(e.message, arg);
      }
      throw e;
    }
  }

  function collection(node: Extract<Node, { type: "call" }>, scope: Scope | null): Value {
    const name = node.name;
    const lambdaNode = node.args[1]?.type === "lambda" ? (node.args[1] as Extract<Node, { type: "lambda" }>) : null;
    if ((name === "min" || name === "max") && node.args.length >= 2 && !lambdaNode) {
      const vals = node.args.map((a) => ev(a, scope));
      return extreme(vals, name, node);
    }
    const fn = FUNCTIONS[name]!;
    if (fn.lambda === "required" && !lambdaNode) return typeError(`${name}() needs a lambda such as x => x.state == "ACTIVE"`, node.args[1] ?? node);
    if (fn.lambda === "none" && name !== "contains" && node.args.length > 1) return typeError(`${name}() takes no lambda`, node.args[1] ?? node);
    const recv = ev(node.args[0] as Node, scope);
    if (name === "contains") {
      const needle = ev(node.args[1] as Node, scope);
      if (recv === null || needle === null) return false;
      if (typeof recv === "string") {
        if (typeof needle !== "string") return typeError(`contains() on a string needs a string, found ${typeName(needle)}`, node.args[1] as Node);
        return recv.includes(needle);
      }
      if (Array.isArray(recv)) {
        tick(recv.length);
        return recv.some((x) => equals(normalize(x), needle));
      }
      return typeError(`contains() needs a list or a string, found ${typeName(recv)}`, node.args[0] as Node);
    }
    if (name === "len" || name === "size") {
      if (recv === null) return 0;
      if (Array.isArray(recv) || typeof recv === "string") return recv.length;
      if (typeof recv === "object" && !(recv instanceof Version)) return Object.keys(recv).length;
      return typeError(`${name}() needs a list or a string, found ${typeName(recv)}`, node.args[0] as Node);
    }
    const list: readonly unknown[] = recv === null ? [] : Array.isArray(recv) ? recv : typeError(`${name}() needs a list, found ${typeName(recv)}`, node.args[0] as Node);
    if (!lambdaNode && node.args.length > 1) return typeError(`the second argument of ${name}() must be a lambda such as x => x.memoryMiB`, node.args[1] as Node);
    const apply = (x: unknown): Value => {
      tick(1);
      const v = normalize(x);
      return lambdaNode ? ev(lambdaNode.body, { name: lambdaNode.param, value: v, parent: scope }) : v;
    };
    const pred = (x: unknown): boolean => truthy(apply(x), lambdaNode ? lambdaNode.body : node);
    switch (name) {
      case "count": {
        let n = 0;
        for (const x of list) if (lambdaNode ? pred(x) : (tick(1), true)) n++;
        return n;
      }
      case "any":
        if (!lambdaNode) return list.length > 0;
        for (const x of list) if (pred(x)) return true;
        return false;
      case "all":
        for (const x of list) if (!pred(x)) return false;
        return true;
      case "filter":
        return list.filter((x) => pred(x)).map((x) => normalize(x));
      case "map":
        return list.map((x) => apply(x));
      case "first":
        for (const x of list) if (!lambdaNode || pred(x)) return normalize(x);
        return null;
      case "sum": {
        let s = 0;
        for (const x of list) {
          const v = apply(x);
          if (v === null) continue;
          if (typeof v !== "number") return typeError(`sum() needs numbers, found ${typeName(v)}`, lambdaNode ? lambdaNode.body : node);
          s += v;
        }
        if (!Number.isFinite(s)) throw new ExpressionError("E_EXPR_LIMIT", "arithmetic overflow in sum()", source, node, file ? { file } : {});
        return s;
      }
      case "min":
      case "max":
        return extreme(list.map((x) => apply(x)), name, node);
      case "sort": {
        const vals = list.map((x) => normalize(x)).filter((v) => v !== null);
        tick(vals.length * Math.max(1, Math.ceil(Math.log2(vals.length + 1))));
        if (vals.every((v) => typeof v === "number")) return (vals as number[]).slice().sort((a, b) => a - b);
        if (vals.every((v) => typeof v === "string")) return (vals as string[]).slice().sort();
        return typeError("sort() needs a list of only numbers or only strings", node.args[0] as Node);
      }
      case "unique": {
        const out: Value[] = [];
        for (const x of list) {
          const v = normalize(x);
          tick(out.length + 1);
          if (!out.some((y) => equals(y, v))) out.push(v);
        }
        return out;
      }
    }
    return typeError(`unknown function '${name}'`, node);
  }

  function extreme(vals: Value[], name: "min" | "max", node: Node): Value {
    let best: Value = null;
    for (const v of vals) {
      if (v === null) continue;
      if (typeof v !== "number" && typeof v !== "string" && !(v instanceof Version)) return typeError(`${name}() needs numbers, strings or versions, found ${typeName(v)}`, node);
      if (best === null) {
        best = v;
        continue;
      }
      const c = v instanceof Version || best instanceof Version
        ? compareVersions(v instanceof Version ? v : toVersion(v, name, 0) ?? new Version([], null, ""), best instanceof Version ? best : toVersion(best, name, 0) ?? new Version([], null, ""))
        : typeof v === typeof best
          ? v < best ? -1 : v > best ? 1 : 0
          : typeError(`${name}() cannot compare ${typeName(v)} with ${typeName(best)}`, node);
      if ((name === "min" && c < 0) || (name === "max" && c > 0)) best = v;
    }
    return best;
  }
}
