// The resource-expression language: compile once (parse + type check), evaluate many times over HostFacts.
import type { Node } from "./ast.js";
import { ExpressionError } from "./errors.js";
import { evaluateNode, type EvalEnv, type HostFunction } from "./evaluate.js";
import { parse } from "./parser.js";
import { HOST_FACTS_FIELDS } from "./schema.js";
import { typecheck, type TypeEnv } from "./typecheck.js";
import { tyName, type Ty } from "./types.js";
import type { Value } from "./values.js";

export { ExpressionError, locate } from "./errors.js";
export type { Span } from "./errors.js";
export type { EvalEnv, HostFunction } from "./evaluate.js";
export { FUNCTIONS } from "./functions.js";
export { LIMITS } from "./limits.js";
export { UNITS } from "./lexer.js";
export { HOST_FACTS_FIELDS, HOST_FACTS_TYPE } from "./schema.js";
export type { TypeEnv } from "./typecheck.js";
export * as T from "./types.js";
export type { Ty, TypeSpec } from "./types.js";
export { Version, compareVersions, display, formatBytes, parseVersion } from "./values.js";
export type { Value } from "./values.js";

/** How to compile: where the text came from (for messages), which names exist, and the type the result must have. */
export interface CompileOptions {
  file?: string;
  /** Static environment; defaults to HostFacts fields with no extra variables. `false` skips the type check. */
  types?: TypeEnv | false;
  /** Require a result of this type (e.g. "bool" for a requirement). */
  expect?: Ty["k"];
}

/** A parsed and checked expression, ready to evaluate against many hosts. */
export interface CompiledExpression {
  readonly source: string;
  readonly ast: Node;
  /** Static type of the result (`any` when unknown). */
  readonly type: Ty;
  evaluate(env: EvalEnv): Value;
  /** Evaluates a requirement: null counts as false; anything but a boolean is E_EXPR_TYPE. */
  test(env: EvalEnv): boolean;
}

/** Parses and type-checks an expression; every failure is an ExpressionError with line:column and a caret. */
export function compile(source: string, opts: CompileOptions = {}): CompiledExpression {
  const file = opts.file;
  return guard(source, file, () => {
    const ast = parse(source, file);
    const typeEnv: TypeEnv | false = opts.types === undefined ? { rootFields: HOST_FACTS_FIELDS } : opts.types;
    const type: Ty = typeEnv === false ? { k: "any" } : typecheck(ast, source, typeEnv, file);
    if (opts.expect && type.k !== "any" && type.k !== "null" && type.k !== opts.expect) {
      throw new ExpressionError("E_EXPR_TYPE", `expression must give ${opts.expect === "bool" ? "true or false" : `a ${opts.expect}`}, but it gives a ${tyName(type)}`, source, ast, {
        ...(file ? { file } : {}),
        ...(opts.expect === "bool" ? { remedy: "compare the value, e.g. memory.totalBytes >= 64Gi" } : {}),
      });
    }
    const evaluate = (env: EvalEnv): Value => guard(source, file, () => evaluateNode(ast, source, env, file));
    return {
      source,
      ast,
      type,
      evaluate,
      test(env: EvalEnv): boolean {
        const v = evaluate(env);
        if (v === null) return false;
        if (typeof v !== "boolean") {
          throw new ExpressionError("E_EXPR_TYPE", `expression must give true or false, but it gave a ${typeof v}`, source, ast, file ? { file } : {});
        }
        return v;
      },
    };
  });
}

/** Compiles without a type check and evaluates once: handy for tests and one-off use. */
export function evaluate(source: string, env: EvalEnv = {}): Value {
  return compile(source, { types: false }).evaluate(env);
}

/** Last line of defence: a JavaScript stack overflow (which the limits should make impossible) becomes E_EXPR_LIMIT. */
function guard<T>(source: string, file: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new ExpressionError("E_EXPR_LIMIT", "expression is too deeply nested to evaluate", source, { start: 0, end: 1 }, file ? { file } : {});
    }
    throw e;
  }
}

export type { HostFunction as ExpressionFunction };
