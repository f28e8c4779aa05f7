// Cheap static checking: unknown names and fields (with "did you mean"), wrong operand types, arity, lambdas.
// Anything it cannot know is `any` and left to the evaluator; it never rejects an expression that could be right.
import type { Node } from "./ast.js";
import { ExpressionError, type Span } from "./errors.js";
import type { HostFunction } from "./evaluate.js";
import { ArgumentIssue, FUNCTIONS } from "./functions.js";
import { ANY, BOOL, NULL, NUMBER, STRING, fromSpec, listOf, tyName, type Ty } from "./types.js";
import { parseVersion } from "./values.js";

/** What the checker knows: names of variables and root fields with their types, and host functions. */
export interface TypeEnv {
  /** Extra names (bundle, roles, cluster) with types. */
  vars?: Readonly<Record<string, Ty>>;
  /** Fields of the root object (HOST_FACTS_FIELDS); omit to allow any name. */
  rootFields?: Readonly<Record<string, Ty>>;
  functions?: Readonly<Record<string, HostFunction>>;
}

interface Scope {
  name: string;
  ty: Ty;
  parent: Scope | null;
}

/** Checks an AST and returns its static type; throws ExpressionError E_EXPR_TYPE at the first definite mistake. */
export function typecheck(root: Node, source: string, env: TypeEnv, file?: string): Ty {
  const fail = (msg: string, span: Span, remedy?: string): never => {
    throw new ExpressionError("E_EXPR_TYPE", msg, source, span, { ...(file ? { file } : {}), ...(remedy ? { remedy } : {}) });
  };
  const is = (t: Ty, ...kinds: Ty["k"][]) => t.k === "any" || t.k === "null" || kinds.includes(t.k);
  return check(root, null);

  function check(node: Node, scope: Scope | null): Ty {
    switch (node.type) {
      case "literal":
        return node.value === null ? NULL : typeof node.value === "number" ? NUMBER : typeof node.value === "string" ? STRING : BOOL;
      case "list": {
        const types = node.items.map((i) => check(i, scope));
        const first = types[0];
        return listOf(first && types.every((t) => t.k === first.k && t.k !== "object" && t.k !== "list") ? first : ANY);
      }
      case "ident": {
        for (let s = scope; s; s = s.parent) if (s.name === node.name) return s.ty;
        if (env.vars && Object.hasOwn(env.vars, node.name)) return env.vars[node.name] as Ty;
        if (!env.rootFields) return ANY;
        if (Object.hasOwn(env.rootFields, node.name)) return env.rootFields[node.name] as Ty;
        const known = [...Object.keys(env.rootFields), ...Object.keys(env.vars ?? {}), ...scopeNames(scope)];
        return fail(`unknown name '${node.name}'${suggest(node.name, known)}`, node, `known names: ${known.sort().join(", ")}`);
      }
      case "member": {
        const t = check(node.object, scope);
        const span = { start: node.nameStart, end: node.end };
        if (t.k === "object") {
          if (Object.hasOwn(t.fields, node.name)) return t.fields[node.name] as Ty;
          return fail(`${t.name} has no field '${node.name}'${suggest(node.name, Object.keys(t.fields))}`, span, `fields of ${t.name}: ${Object.keys(t.fields).join(", ")}`);
        }
        if (t.k === "list") {
          return fail(`cannot read field '${node.name}' of a ${tyName(t)}`, span, `use .any(x => x.${node.name} ...), .map(x => x.${node.name}) or [0].${node.name}`);
        }
        if (t.k === "any" || t.k === "null") return ANY;
        return fail(`cannot read field '${node.name}' of a ${tyName(t)}`, span);
      }
      case "index": {
        const t = check(node.object, scope);
        const k = check(node.index, scope);
        if (t.k === "list") {
          if (!is(k, "number")) fail(`a list index must be a number, found ${tyName(k)}`, node.index);
          return t.of;
        }
        if (t.k === "string") return STRING;
        if (t.k === "object") {
          if (!is(k, "string")) fail(`an object key must be a string, found ${tyName(k)}`, node.index);
          if (node.index.type === "literal" && typeof node.index.value === "string") {
            const f = node.index.value;
            if (!Object.hasOwn(t.fields, f)) fail(`${t.name} has no field '${f}'${suggest(f, Object.keys(t.fields))}`, node.index);
            return t.fields[f] as Ty;
          }
          return ANY;
        }
        if (t.k === "any" || t.k === "null") return ANY;
        return fail(`cannot index a ${tyName(t)}`, node);
      }
      case "lambda":
        return fail("a lambda can only be an argument of a collection function", node);
      case "unary": {
        const t = check(node.operand, scope);
        if (node.op === "!") {
          if (!is(t, "bool")) fail(`'!' needs true or false, found ${tyName(t)}`, node.operand);
          return BOOL;
        }
        if (!is(t, "number")) fail(`'-' needs a number, found ${tyName(t)}`, node.operand);
        return NUMBER;
      }
      case "conditional": {
        const c = check(node.test, scope);
        if (!is(c, "bool")) fail(`the condition before '?' must be true or false, found ${tyName(c)}`, node.test);
        const a = check(node.then, scope);
        const b = check(node.otherwise, scope);
        return a.k === b.k && a.k !== "object" && a.k !== "list" ? a : a.k === "null" ? b : b.k === "null" ? a : ANY;
      }
      case "match": {
        const t = check(node.subject, scope);
        if (!is(t, "string")) fail(`'${node.negate ? "!~" : "=~"}' needs a string on its left, found ${tyName(t)}`, node.subject);
        return BOOL;
      }
      case "binary":
        return binary(node, scope);
      case "call":
        return call(node, scope);
    }
  }

  function binary(node: Extract<Node, { type: "binary" }>, scope: Scope | null): Ty {
    const l = check(node.left, scope);
    const r = check(node.right, scope);
    const opSpan = { start: node.opStart, end: node.opStart + node.op.length };
    switch (node.op) {
      case "&&":
      case "||":
        if (!is(l, "bool")) fail(`'${node.op}' needs true or false on its left, found ${tyName(l)}`, node.left);
        if (!is(r, "bool")) fail(`'${node.op}' needs true or false on its right, found ${tyName(r)}`, node.right);
        return BOOL;
      case "??":
        return l.k === "null" ? r : l.k === r.k ? l : ANY;
      case "==":
      case "!=":
        return BOOL;
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const ok =
          l.k === "any" || r.k === "any" || l.k === "null" || r.k === "null" ||
          (l.k === "number" && r.k === "number") ||
          (l.k === "string" && r.k === "string") ||
          (l.k === "version" && (r.k === "string" || r.k === "version" || r.k === "number")) ||
          (r.k === "version" && (l.k === "string" || l.k === "number"));
        if (!ok) fail(`cannot compare ${tyName(l)} with ${tyName(r)} using '${node.op}'`, opSpan, l.k === "string" || r.k === "string" ? "wrap version strings in semver(...) to compare them as versions" : undefined);
        for (const [t, other] of [[l, node.right], [r, node.left]] as const) {
          if (t.k === "version" && other.type === "literal" && typeof other.value === "string" && parseVersion(other.value) === null) {
            fail(`"${other.value}" is not a version`, other, 'write versions like "535.54.03" or "1.31"');
          }
        }
        return BOOL;
      }
      case "in":
        if (!is(r, "list", "string")) fail(`'in' needs a list or a string on its right, found ${tyName(r)}`, node.right);
        return BOOL;
      case "+":
        if (l.k === "string" || r.k === "string") {
          if (!is(l, "string") || !is(r, "string")) fail(`'+' joins two strings or adds two numbers, found ${tyName(l)} and ${tyName(r)}`, opSpan);
          return STRING;
        }
        if (l.k === "list" || r.k === "list") {
          if (!is(l, "list") || !is(r, "list")) fail(`'+' joins two lists, found ${tyName(l)} and ${tyName(r)}`, opSpan);
          return listOf(ANY);
        }
        return numeric();
      default:
        return numeric();
    }
    function numeric(): Ty {
      if (!is(l, "number")) fail(`'${node.op}' needs numbers, found ${tyName(l)} on its left`, node.left);
      if (!is(r, "number")) fail(`'${node.op}' needs numbers, found ${tyName(r)} on its right`, node.right);
      return NUMBER;
    }
  }

  function call(node: Extract<Node, { type: "call" }>, scope: Scope | null): Ty {
    const nameSpan = { start: node.nameStart, end: node.nameStart + node.name.length };
    const host = env.functions && Object.hasOwn(env.functions, node.name) ? env.functions[node.name] : undefined;
    if (host) {
      const max = host.params.length;
      const min = max - (host.optional ?? 0);
      if (node.args.length < min || node.args.length > max) fail(`${node.name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}, found ${node.args.length}`, nameSpan);
      node.args.forEach((a, i) => {
        if (a.type === "lambda") fail(`${node.name}() takes no lambda`, a);
        const t = check(a, scope);
        const want = fromSpec(host.params[i] ?? "any");
        if (want.k !== "any" && t.k !== "any" && t.k !== "null" && t.k !== want.k && !(want.k === "version" && t.k === "string")) {
          fail(`${node.name}() argument ${i + 1} must be ${tyName(want)}, found ${tyName(t)}`, a);
        }
      });
      return fromSpec(host.returns);
    }
    const fn = Object.hasOwn(FUNCTIONS, node.name) ? FUNCTIONS[node.name] : undefined;
    if (!fn) {
      const names = [...Object.keys(FUNCTIONS), ...Object.keys(env.functions ?? {})];
      return fail(`unknown function '${node.name}'${suggest(node.name, names)}`, nameSpan);
    }
    if (node.args.length < fn.min || node.args.length > fn.max) {
      fail(`${node.name}() takes ${fn.min === fn.max ? fn.min : `${fn.min} to ${fn.max}`} argument${fn.max === 1 ? "" : "s"}${node.method ? " (counting the value before the dot)" : ""}, found ${node.args.length}`, nameSpan);
    }
    const types: Ty[] = [];
    node.args.forEach((a, i) => {
      if (a.type === "lambda") {
        if (i !== 1 || fn.lambda === "none") fail(`${node.name}() takes no lambda here`, a);
        const recv = types[0] ?? ANY;
        const param = recv.k === "list" ? recv.of : ANY;
        types.push(check(a.body, { name: a.param, ty: param, parent: scope }));
      } else {
        if (i === 1 && fn.lambda === "required") fail(`${node.name}() needs a lambda such as x => x.state == "ACTIVE"`, a);
        types.push(check(a, scope));
      }
    });
    if (fn.lambda !== "none" && node.args[1]?.type === "lambda" && ["count", "any", "all", "filter", "first"].includes(node.name)) {
      const body = types[1] as Ty;
      if (!is(body, "bool")) fail(`the lambda of ${node.name}() must give true or false, found ${tyName(body)}`, (node.args[1] as Extract<Node, { type: "lambda" }>).body);
    }
    try {
      return fn.returns(types);
    } catch (e) {
      if (e instanceof ArgumentIssue) return fail(e.message.replace(/^function\(\)/, `${node.name}()`), node.args[e.argIndex] ?? nameSpan);
      throw e;
    }
  }
}

function scopeNames(scope: Scope | null): string[] {
  const out: string[] = [];
  for (let s = scope; s; s = s.parent) out.push(s.name);
  return out;
}

/** " (did you mean 'gpus'?)" when a known name is within a small edit distance. */
export function suggest(name: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const a = name.toLowerCase();
    const b = k.toLowerCase();
    // a prefix ("total" → "totalBytes", "gpu" → "gpus") beats an equally short edit
    const d = a.length >= 3 && (b.startsWith(a) || a.startsWith(b)) ? 0.5 : editDistance(a, b);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean '${best}'?)` : "";
}

/** Edit distance with adjacent transpositions ("modle" → "model" is 1). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return 99;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
