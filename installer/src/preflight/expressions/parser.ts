// Pratt parser: tokens → AST, with limits on nesting, tree depth and size so hostile input fails fast.
import type { BinaryOp, Node } from "./ast.js";
import { ExpressionError, type Span } from "./errors.js";
import { tokenize, type Operator, type Token } from "./lexer.js";
import { LIMITS } from "./limits.js";
import { compileRegex, RegexError } from "./regex.js";

/** Binding power of each infix operator; higher binds tighter. Comparisons do not chain. */
const INFIX: Partial<Record<Operator | "in", { bp: number; op: BinaryOp | "=~" | "!~" | "?" }>> = {
  "?": { bp: 1, op: "?" },
  "??": { bp: 2, op: "??" },
  "||": { bp: 3, op: "||" },
  "&&": { bp: 4, op: "&&" },
  "==": { bp: 5, op: "==" },
  "!=": { bp: 5, op: "!=" },
  "<": { bp: 5, op: "<" },
  "<=": { bp: 5, op: "<=" },
  ">": { bp: 5, op: ">" },
  ">=": { bp: 5, op: ">=" },
  "=~": { bp: 5, op: "=~" },
  "!~": { bp: 5, op: "!~" },
  in: { bp: 5, op: "in" },
  "+": { bp: 6, op: "+" },
  "-": { bp: 6, op: "-" },
  "*": { bp: 7, op: "*" },
  "/": { bp: 7, op: "/" },
  "%": { bp: 7, op: "%" },
};
const COMPARISON_BP = 5;
const UNARY_BP = 8;
const KEYWORDS = new Set(["true", "false", "null", "in"]);

/** Parses one expression; throws ExpressionError with the 1-based line:column of the first mistake. */
export function parse(source: string, file?: string): Node {
  const tokens = tokenize(source, file);
  let pos = 0;
  let nesting = 0;
  let nodes = 0;
  const depthOf = new WeakMap<Node, number>();

  const fail = (code: "E_EXPR_SYNTAX" | "E_EXPR_LIMIT", msg: string, span: Span, remedy?: string): never => {
    throw new ExpressionError(code, msg, source, span, { ...(file ? { file } : {}), ...(remedy ? { remedy } : {}) });
  };
  const peek = (): Token => tokens[pos] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const isOp = (t: Token, v: Operator): boolean => t.kind === "op" && t.value === v;
  const describe = (t: Token): string =>
    t.kind === "eof" ? "the end of the expression" : t.kind === "string" ? "a string" : t.kind === "number" ? `number ${t.text}` : `'${t.value}'`;
  const expectOp = (v: Operator, what: string): Token => {
    const t = peek();
    if (!isOp(t, v)) fail("E_EXPR_SYNTAX", `expected '${v}' ${what}, found ${describe(t)}`, t);
    return next();
  };

  /** Every node goes through here: counts nodes and keeps the tree shallow enough to evaluate recursively. */
  const mk = <N extends Node>(node: N, children: Node[]): N => {
    if (++nodes > LIMITS.maxNodes) fail("E_EXPR_LIMIT", `expression has more than ${LIMITS.maxNodes} parts`, node);
    let d = 0;
    for (const c of children) d = Math.max(d, depthOf.get(c) ?? 1);
    if (d + 1 > LIMITS.maxTreeDepth) {
      fail("E_EXPR_LIMIT", `expression is nested more than ${LIMITS.maxTreeDepth} levels deep`, node, "split it into smaller expressions");
    }
    depthOf.set(node, d + 1);
    return node;
  };

  const enter = (t: Token) => {
    if (++nesting > LIMITS.maxNesting) {
      fail("E_EXPR_LIMIT", `expression is nested more than ${LIMITS.maxNesting} levels deep`, t, "remove redundant parentheses or split the expression");
    }
  };

  const root = parseExpr(0);
  const end = peek();
  if (end.kind !== "eof") {
    fail("E_EXPR_SYNTAX", `unexpected ${describe(end)} after a complete expression`, end, isOp(end, "=>") ? "a lambda (x => ...) is only allowed as the argument of count, any, all, filter, map, sum, min, max or first" : "join conditions with && or ||");
  }
  return root;

  function parseExpr(minBp: number): Node {
    enter(peek());
    let left = parsePrefix();
    while (true) {
      const t = peek();
      const key = t.kind === "op" ? t.value : t.kind === "ident" && t.value === "in" ? "in" : null;
      const info = key === null ? undefined : INFIX[key];
      if (!info || info.bp <= minBp) break;
      next();
      if (info.op === "?") {
        const then = parseExpr(0);
        expectOp(":", "in a conditional (test ? then : otherwise)");
        const otherwise = parseExpr(0); // right-associative
        left = mk({ type: "conditional", test: left, then, otherwise, start: left.start, end: otherwise.end }, [left, then, otherwise]);
        continue;
      }
      if (info.op === "=~" || info.op === "!~") {
        const p = peek();
        if (p.kind !== "string") fail("E_EXPR_SYNTAX", `the pattern after '${info.op}' must be a string literal, found ${describe(p)}`, p, 'write the pattern in quotes, e.g. g.model =~ "A100|H100"');
        next();
        const pattern = (p as Extract<Token, { kind: "string" }>).value;
        let regex;
        try {
          regex = compileRegex(pattern);
        } catch (e) {
          if (!(e instanceof RegexError)) throw e;
          const at = Math.min(p.start + 1 + e.offset, p.end - 1);
          fail(e.limit ? "E_EXPR_LIMIT" : "E_EXPR_SYNTAX", `invalid pattern: ${e.message}`, { start: at, end: at + 1 }, "use the safe regex subset: literals, . [] \\d \\w \\s ^ $ | () * + ? {n,m}, optional leading (?i)");
        }
        left = mk({ type: "match", negate: info.op === "!~", subject: left, pattern, regex: regex!, opStart: t.start, start: left.start, end: p.end }, [left]);
      } else {
        const right = parseExpr(info.bp);
        left = mk({ type: "binary", op: info.op, left, right, opStart: t.start, start: left.start, end: right.end }, [left, right]);
      }
      if (info.bp === COMPARISON_BP) {
        const after = peek();
        const k = after.kind === "op" ? after.value : after.kind === "ident" && after.value === "in" ? "in" : null;
        if (k !== null && INFIX[k]?.bp === COMPARISON_BP) {
          fail("E_EXPR_SYNTAX", `comparisons cannot be chained ('${t.kind === "op" ? t.value : "in"}' followed by '${k}')`, after, "join them with &&, e.g. a >= 1 && a <= 8");
        }
      }
    }
    nesting--;
    return left;
  }

  function parsePrefix(): Node {
    const t = next();
    let node: Node;
    switch (t.kind) {
      case "number":
        node = mk({ type: "literal", value: t.value, start: t.start, end: t.end }, []);
        break;
      case "string":
        node = mk({ type: "literal", value: t.value, start: t.start, end: t.end }, []);
        break;
      case "ident": {
        if (t.value === "true" || t.value === "false") node = mk({ type: "literal", value: t.value === "true", start: t.start, end: t.end }, []);
        else if (t.value === "null") node = mk({ type: "literal", value: null, start: t.start, end: t.end }, []);
        else if (t.value === "in") return fail("E_EXPR_SYNTAX", "'in' needs a value on its left", t);
        else if (isOp(peek(), "=>")) {
          return fail("E_EXPR_SYNTAX", `a lambda (${t.value} => ...) is only allowed as the argument of count, any, all, filter, map, sum, min, max or first`, { start: t.start, end: peek().end });
        } else if (isOp(peek(), "(")) {
          node = parseCall(t.value, t.start, t.start, [], false);
        } else node = mk({ type: "ident", name: t.value, start: t.start, end: t.end }, []);
        break;
      }
      case "op": {
        if (t.value === "(") {
          const inner = parseExpr(0);
          expectOp(")", "to close '('");
          node = inner;
          break;
        }
        if (t.value === "[") {
          const items: Node[] = [];
          if (!isOp(peek(), "]")) {
            while (true) {
              items.push(parseExpr(0));
              if (isOp(peek(), ",")) {
                next();
                if (isOp(peek(), "]")) break; // trailing comma
                continue;
              }
              break;
            }
          }
          const close = expectOp("]", "to close the list");
          node = mk({ type: "list", items, start: t.start, end: close.end }, items);
          break;
        }
        if (t.value === "!" || t.value === "-") {
          enter(t);
          const operand = parseExpr(UNARY_BP - 1);
          nesting--;
          // Fold `-5` into a literal so `-5Gi` is a plain number.
          if (t.value === "-" && operand.type === "literal" && typeof operand.value === "number") {
            node = mk({ type: "literal", value: -operand.value, start: t.start, end: operand.end }, []);
          } else node = mk({ type: "unary", op: t.value, operand, start: t.start, end: operand.end }, [operand]);
          break;
        }
        return fail("E_EXPR_SYNTAX", `expected a value, found ${describe(t)}`, t);
      }
      case "eof":
        return fail("E_EXPR_SYNTAX", "expression is incomplete: expected a value", t);
    }
    return parsePostfix(node);
  }

  function parsePostfix(start: Node): Node {
    let node = start;
    while (true) {
      const t = peek();
      if (isOp(t, ".") || isOp(t, "?.")) {
        next();
        const name = next();
        if (name.kind !== "ident" || KEYWORDS.has(name.value)) {
          return fail("E_EXPR_SYNTAX", `expected a field or method name after '${t.kind === "op" ? t.value : "."}', found ${describe(name)}`, name);
        }
        if (isOp(peek(), "(")) node = parseCall(name.value, name.start, node.start, [node], true);
        else node = mk({ type: "member", object: node, name: name.value, nameStart: name.start, start: node.start, end: name.end }, [node]);
        continue;
      }
      if (isOp(t, "[")) {
        next();
        enter(t);
        const index = parseExpr(0);
        nesting--;
        const close = expectOp("]", "to close the index");
        node = mk({ type: "index", object: node, index, start: node.start, end: close.end }, [node, index]);
        continue;
      }
      if (isOp(t, "(")) {
        return fail("E_EXPR_SYNTAX", "only named functions can be called, e.g. lower(os.id) or os.id.lower()", t);
      }
      return node;
    }
  }

  function parseCall(name: string, nameStart: number, start: number, receiver: Node[], method: boolean): Node {
    const open = expectOp("(", "to start the arguments");
    enter(open);
    const args: Node[] = [...receiver];
    if (!isOp(peek(), ")")) {
      while (true) {
        args.push(parseArgument());
        if (isOp(peek(), ",")) {
          next();
          continue;
        }
        break;
      }
    }
    const close = expectOp(")", `to close the arguments of ${name}()`);
    nesting--;
    return mk({ type: "call", name, nameStart, args, method, start, end: close.end }, args);
  }

  function parseArgument(): Node {
    const t = peek();
    const after = tokens[pos + 1] as Token;
    if (t.kind === "ident" && !KEYWORDS.has(t.value) && isOp(after, "=>")) {
      next();
      next();
      enter(t);
      const body = parseExpr(0);
      nesting--;
      return mk({ type: "lambda", param: t.value, body, start: t.start, end: body.end }, [body]);
    }
    return parseExpr(0);
  }
}
