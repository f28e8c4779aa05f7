// Lexer: source text → tokens with spans; unit suffixes are applied here so the parser only sees plain numbers.
import { ExpressionError, type Span } from "./errors.js";
import { LIMITS } from "./limits.js";

/** One token with its source span, so every later error can point at the exact characters. */
export type Token =
  | { kind: "number"; value: number; text: string; start: number; end: number }
  | { kind: "string"; value: string; start: number; end: number }
  | { kind: "ident"; value: string; start: number; end: number }
  | { kind: "op"; value: Operator; start: number; end: number }
  | { kind: "eof"; start: number; end: number };

/** Every operator and punctuation token the grammar knows (docs/expressions.md). */
export type Operator =
  | "=>" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "=~" | "!~" | "&&" | "||" | "??" | "?." | "!"
  | "+" | "-" | "*" | "/" | "%" | "." | "," | "(" | ")" | "[" | "]" | "?" | ":";

/** Unit suffixes: binary (Ki..Pi, powers of 1024) and decimal (k..P, powers of 1000). */
export const UNITS: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
};

const TWO: readonly Operator[] = ["=>", "==", "!=", "<=", ">=", "=~", "!~", "&&", "||", "??", "?."];
const ONE: readonly Operator[] = ["<", ">", "!", "+", "-", "*", "/", "%", ".", ",", "(", ")", "[", "]", "?", ":"];

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c);

/** Splits an expression into tokens; throws ExpressionError (E_EXPR_SYNTAX / E_EXPR_LIMIT) with the position. */
export function tokenize(source: string, file?: string): Token[] {
  const fail = (code: "E_EXPR_SYNTAX" | "E_EXPR_LIMIT", msg: string, span: Span, remedy?: string): never => {
    throw new ExpressionError(code, msg, source, span, { ...(file ? { file } : {}), ...(remedy ? { remedy } : {}) });
  };
  if (source.length > LIMITS.maxLength) {
    fail("E_EXPR_LIMIT", `expression is ${source.length} characters long; the limit is ${LIMITS.maxLength}`, { start: LIMITS.maxLength, end: LIMITS.maxLength + 1 }, "split the requirement into several smaller checks");
  }
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(source.charCodeAt(i + 1)))) {
      tokens.push(lexNumber());
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      tokens.push({ kind: "ident", value: source.slice(start, i), start, end: i });
      continue;
    }
    if (c === 34 || c === 39) {
      tokens.push(lexString(c));
      continue;
    }
    const two = source.slice(i, i + 2) as Operator;
    if (TWO.includes(two)) {
      // `?.` followed by a digit is `? .5`, the ternary with a number.
      if (!(two === "?." && i + 2 < n && isDigit(source.charCodeAt(i + 2)))) {
        tokens.push({ kind: "op", value: two, start, end: i + 2 });
        i += 2;
        continue;
      }
    }
    const one = source[i] as Operator;
    if (ONE.includes(one)) {
      tokens.push({ kind: "op", value: one, start, end: i + 1 });
      i++;
      continue;
    }
    const ch = source[i] ?? "";
    if (ch === "=") fail("E_EXPR_SYNTAX", "a single '=' is not an operator", { start, end: start + 1 }, "compare with '==' (or use '=~' for a regular expression)");
    if (ch === "&") fail("E_EXPR_SYNTAX", "a single '&' is not an operator", { start, end: start + 1 }, "use '&&' for logical and");
    if (ch === "|") fail("E_EXPR_SYNTAX", "a single '|' is not an operator", { start, end: start + 1 }, "use '||' for logical or");
    const cp = source.codePointAt(i) ?? 0;
    const shown = cp >= 32 && cp < 127 ? `'${ch}'` : `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    fail("E_EXPR_SYNTAX", `unexpected character ${shown}`, { start, end: start + 1 });
  }
  tokens.push({ kind: "eof", start: n, end: n });
  return tokens;

  function lexNumber(): Token {
    const start = i;
    while (i < n && isDigit(source.charCodeAt(i))) i++;
    if (source[i] === "." && i + 1 < n && isDigit(source.charCodeAt(i + 1))) {
      i++;
      while (i < n && isDigit(source.charCodeAt(i))) i++;
    }
    if ((source[i] === "e" || source[i] === "E") && (isDigit(source.charCodeAt(i + 1)) || ((source[i + 1] === "+" || source[i + 1] === "-") && isDigit(source.charCodeAt(i + 2))))) {
      i += 2;
      while (i < n && isDigit(source.charCodeAt(i))) i++;
    }
    const numText = source.slice(start, i);
    const unitStart = i;
    while (i < n && isIdentPart(source.charCodeAt(i))) i++;
    const unit = source.slice(unitStart, i);
    const span = { start, end: i };
    if (numText.replace(/[^0-9]/g, "").length > LIMITS.maxNumberDigits) {
      fail("E_EXPR_LIMIT", `number literal has more than ${LIMITS.maxNumberDigits} digits`, span, "write large sizes with a unit, e.g. 2Ti");
    }
    let value = Number(numText);
    if (unit !== "") {
      const factor = UNITS[unit];
      if (factor === undefined) {
        fail("E_EXPR_SYNTAX", `unknown unit suffix '${unit}' after ${numText}`, { start: unitStart, end: i }, "use Ki, Mi, Gi, Ti, Pi (powers of 1024) or k, M, G, T, P (powers of 1000), e.g. 64Gi");
      }
      value *= factor as number;
    }
    if (!Number.isFinite(value) || Math.abs(value) > LIMITS.maxNumber) {
      fail("E_EXPR_LIMIT", `number ${source.slice(start, i)} is out of range (the largest allowed is 2^53 = ${LIMITS.maxNumber})`, span);
    }
    return { kind: "number", value, text: source.slice(start, i), start, end: i };
  }

  function lexString(quote: number): Token {
    const start = i;
    i++;
    let out = "";
    while (true) {
      if (i >= n || source.charCodeAt(i) === 10) {
        fail("E_EXPR_SYNTAX", "unterminated string", { start, end: start + 1 }, `close the string with ${String.fromCharCode(quote)} on the same line`);
      }
      const c = source.charCodeAt(i);
      if (c === quote) {
        i++;
        break;
      }
      if (c === 92) {
        const e = source[i + 1];
        const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", "/": "/" };
        if (e !== undefined && map[e] !== undefined) {
          out += map[e];
          i += 2;
          continue;
        }
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        // Unknown escapes are kept verbatim so regex patterns like "\\d" and "\d" both work.
        out += "\\";
        i++;
        continue;
      }
      out += source[i];
      i++;
    }
    return { kind: "string", value: out, start, end: i };
  }
}
