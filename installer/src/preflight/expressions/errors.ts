// ExpressionError: every mistake in a resource expression, with the 1-based line:column and a caret under it.
import { OmstackError, type ErrorCode } from "../../errors.js";

/** The three expression error codes, so callers can tell syntax, type and limit failures apart. */
export type ExpressionErrorCode = Extract<ErrorCode, "E_EXPR_SYNTAX" | "E_EXPR_TYPE" | "E_EXPR_LIMIT">;

/** A half-open character range [start, end) into the expression source. */
export interface Span {
  start: number;
  end: number;
}

/** The only error the expression language throws: a message, the place, and a caret snippet to show it. */
export class ExpressionError extends OmstackError {
  readonly line: number;
  readonly column: number;
  readonly snippet: string;
  readonly offset: number;

  constructor(code: ExpressionErrorCode, message: string, source: string, span: Span, opts: { file?: string; remedy?: string } = {}) {
    const { line, column, lineText } = locate(source, span.start);
    const snippet = caretSnippet(lineText, column, Math.max(1, Math.min(span.end, source.length) - span.start));
    super(code, message, {
      location: { file: opts.file ?? "<expression>", line, column },
      ...(opts.remedy === undefined ? {} : { remedy: opts.remedy }),
      details: { snippet },
    });
    this.name = "ExpressionError";
    this.line = line;
    this.column = column;
    this.snippet = snippet;
    this.offset = span.start;
  }

  /** The usual one-line format followed by the offending line and a caret under the mistake. */
  override format(): string {
    const base = super.format();
    const [head, ...rest] = base.split("\n");
    return [head, ...this.snippet.split("\n").map((l) => "  " + l), ...rest].join("\n");
  }
}

/** 1-based line and column of an offset, and the text of that line (for the snippet). */
export function locate(source: string, offset: number): { line: number; column: number; lineText: string } {
  const at = Math.max(0, Math.min(offset, source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = source.indexOf("\n", lineStart);
  if (lineEnd < 0) lineEnd = source.length;
  return { line, column: at - lineStart + 1, lineText: source.slice(lineStart, lineEnd) };
}

const SNIPPET_WIDTH = 100;

/** The line (cut to a readable window around the column) with `^~~~` under the mistake. */
function caretSnippet(lineText: string, column: number, width: number): string {
  let text = lineText;
  let col = column;
  if (text.length > SNIPPET_WIDTH) {
    const from = Math.max(0, Math.min(col - 1 - SNIPPET_WIDTH / 2, text.length - SNIPPET_WIDTH));
    text = (from > 0 ? "…" : "") + text.slice(from, from + SNIPPET_WIDTH) + (from + SNIPPET_WIDTH < lineText.length ? "…" : "");
    col = col - from + (from > 0 ? 1 : 0);
  }
  text = text.replace(/[\t\r]/g, " ");
  const w = Math.max(1, Math.min(width, text.length - col + 1, 40));
  return `${text}\n${" ".repeat(Math.max(0, col - 1))}^${"~".repeat(Math.max(0, w - 1))}`;
}
