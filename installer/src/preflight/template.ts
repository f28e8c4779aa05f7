// Message templates: literal text with `{{ expression }}` holes, compiled once and rendered per host.
import { compile, display, ExpressionError, type CompiledExpression, type EvalEnv, type TypeEnv } from "./expressions/index.js";

/** A compiled template: alternating literal text and expressions. */
export interface Template {
  readonly source: string;
  render(env: EvalEnv): string;
}

/** Compiles `text`; an expression error is reported at its position inside the template. */
export function compileTemplate(text: string, types: TypeEnv, file?: string): Template {
  const parts: (string | CompiledExpression)[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) {
      parts.push(text.slice(i));
      break;
    }
    parts.push(text.slice(i, open));
    const close = text.indexOf("}}", open + 2);
    if (close < 0) throw new ExpressionError("E_EXPR_SYNTAX", "template has '{{' without a closing '}}'", text, { start: open, end: open + 2 }, file ? { file } : {});
    const src = text.slice(open + 2, close);
    try {
      parts.push(compile(src, { types, ...(file ? { file } : {}) }));
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      // re-anchor the error in the whole template so line:column points into the template text
      throw new ExpressionError(e.code as "E_EXPR_SYNTAX", e.message, text, { start: open + 2 + e.offset, end: open + 3 + e.offset }, { ...(file ? { file } : {}), ...(e.remedy ? { remedy: e.remedy } : {}) });
    }
    i = close + 2;
  }
  return {
    source: text,
    render: (env) => parts.map((p) => (typeof p === "string" ? p : display(p.evaluate(env)))).join(""),
  };
}
