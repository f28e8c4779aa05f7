// A safe regular-expression subset compiled to an NFA and run by state-set simulation:
// time is O(pattern states × subject length), so no pattern can backtrack catastrophically.
import { LIMITS } from "./limits.js";

/** A pattern mistake or limit, with the offset inside the pattern; the parser turns it into an ExpressionError. */
export class RegexError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly limit = false,
  ) {
    super(message);
  }
}

type Pred = (c: number) => boolean;
type RNode =
  | { t: "char"; test: Pred }
  | { t: "seq"; items: RNode[] }
  | { t: "alt"; options: RNode[] }
  | { t: "rep"; node: RNode; min: number; max: number | null }
  | { t: "bol" }
  | { t: "eol" };

type State =
  | { k: "char"; test: Pred; out: number }
  | { k: "split"; out: number; out2: number }
  | { k: "bol"; out: number }
  | { k: "eol"; out: number }
  | { k: "match" };

/** A compiled pattern; `test` charges one step per NFA state visited to `tick`. */
export interface CompiledRegex {
  readonly source: string;
  readonly stateCount: number;
  test(subject: string, tick: (n: number) => void): boolean;
}

const MAX_REPEAT = 100;
const MAX_GROUP_NESTING = 32;

/** Compiles a pattern of the safe subset (see docs/expressions.md); throws RegexError on anything else. */
export function compileRegex(pattern: string): CompiledRegex {
  if (pattern.length > LIMITS.maxRegexLength) {
    throw new RegexError(`pattern is ${pattern.length} characters long; the limit is ${LIMITS.maxRegexLength}`, LIMITS.maxRegexLength, true);
  }
  let pos = 0;
  let ignoreCase = false;
  if (pattern.startsWith("(?i)")) {
    ignoreCase = true;
    pos = 4;
  }
  let nesting = 0;
  const ast = parseAlt();
  if (pos < pattern.length) throw new RegexError(`unmatched ')'`, pos);

  const states: State[] = [];
  const alloc = (s: State): number => {
    if (states.length >= LIMITS.maxRegexStates) {
      throw new RegexError(`pattern expands to more than ${LIMITS.maxRegexStates} states (large {n,m} repeats count many times)`, 0, true);
    }
    states.push(s);
    return states.length - 1;
  };
  const fold = (test: Pred): Pred => (ignoreCase ? (c) => test(c) || test(lowerCode(c)) || test(upperCode(c)) : test);
  const matchState = alloc({ k: "match" });
  const start = build(ast, matchState);

  return {
    source: pattern,
    stateCount: states.length,
    test: (subject, tick) => simulate(states, start, subject, tick),
  };

  function build(node: RNode, next: number): number {
    switch (node.t) {
      case "char":
        return alloc({ k: "char", test: fold(node.test), out: next });
      case "bol":
        return alloc({ k: "bol", out: next });
      case "eol":
        return alloc({ k: "eol", out: next });
      case "seq": {
        let cur = next;
        for (let i = node.items.length - 1; i >= 0; i--) cur = build(node.items[i] as RNode, cur);
        return cur;
      }
      case "alt": {
        let cur = build(node.options[node.options.length - 1] as RNode, next);
        for (let i = node.options.length - 2; i >= 0; i--) {
          const first = build(node.options[i] as RNode, next);
          cur = alloc({ k: "split", out: first, out2: cur });
        }
        return cur;
      }
      case "rep": {
        let cur = next;
        if (node.max === null) {
          const loop = alloc({ k: "split", out: -1, out2: next });
          const body = build(node.node, loop);
          (states[loop] as { out: number }).out = body;
          cur = loop;
        } else {
          for (let i = 0; i < node.max - node.min; i++) {
            const body = build(node.node, cur);
            cur = alloc({ k: "split", out: body, out2: next });
          }
        }
        for (let i = 0; i < node.min; i++) cur = build(node.node, cur);
        return cur;
      }
    }
  }

  function parseAlt(): RNode {
    const options: RNode[] = [parseSeq()];
    while (pattern[pos] === "|") {
      pos++;
      options.push(parseSeq());
    }
    return options.length === 1 ? (options[0] as RNode) : { t: "alt", options };
  }

  function parseSeq(): RNode {
    const items: RNode[] = [];
    while (pos < pattern.length && pattern[pos] !== "|" && pattern[pos] !== ")") {
      const atomStart = pos;
      const atom = parseAtom();
      const q = parseQuantifier();
      if (q) {
        if (atom.t === "bol" || atom.t === "eol") throw new RegexError("an anchor (^ or $) cannot be repeated", atomStart);
        items.push({ t: "rep", node: atom, min: q.min, max: q.max });
      } else items.push(atom);
    }
    return items.length === 1 ? (items[0] as RNode) : { t: "seq", items };
  }

  function parseQuantifier(): { min: number; max: number | null } | null {
    const c = pattern[pos];
    let q: { min: number; max: number | null } | null = null;
    if (c === "*") q = { min: 0, max: null };
    else if (c === "+") q = { min: 1, max: null };
    else if (c === "?") q = { min: 0, max: 1 };
    if (q) pos++;
    else if (c === "{") {
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(pattern.slice(pos));
      if (!m) return null; // a literal '{'
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? null : Number(m[3]);
      if (max !== null && max < min) throw new RegexError(`repeat {${min},${max}}: the maximum is below the minimum`, pos);
      if (min > MAX_REPEAT || (max ?? 0) > MAX_REPEAT) throw new RegexError(`repeat counts above ${MAX_REPEAT} are not allowed`, pos, true);
      pos += m[0].length;
      q = { min, max };
    }
    if (q && pattern[pos] === "?") pos++; // lazy marker: irrelevant for a yes/no match
    if (q && (pattern[pos] === "*" || pattern[pos] === "+")) {
      throw new RegexError("a quantifier cannot follow another quantifier", pos);
    }
    return q;
  }

  function parseAtom(): RNode {
    const c = pattern[pos] as string;
    const at = pos;
    if (c === "*" || c === "+" || c === "?") throw new RegexError(`nothing to repeat before '${c}'`, at);
    if (c === "{" && /^\{\d{1,4}(,\d{0,4})?\}/.test(pattern.slice(pos))) throw new RegexError("nothing to repeat before '{'", at);
    pos++;
    switch (c) {
      case "^":
        return { t: "bol" };
      case "$":
        return { t: "eol" };
      case ".":
        return { t: "char", test: (x) => x !== 10 };
      case "(": {
        if (pattern[pos] === "?") {
          if (pattern[pos + 1] === ":") pos += 2;
          else throw new RegexError("lookaround, named groups and inline flags (other than a leading (?i)) are not supported", at);
        }
        if (++nesting > MAX_GROUP_NESTING) throw new RegexError(`groups nested deeper than ${MAX_GROUP_NESTING}`, at, true);
        const inner = pattern[pos] === ")" ? ({ t: "seq", items: [] } as RNode) : parseAlt();
        nesting--;
        if (pattern[pos] !== ")") throw new RegexError("unclosed group '('", at);
        pos++;
        return inner;
      }
      case ")":
        throw new RegexError("unmatched ')'", at);
      case "[":
        return parseClass(at);
      case "\\":
        return { t: "char", test: parseEscape(at, false) };
      default:
        return { t: "char", test: eq(c.charCodeAt(0)) };
    }
  }

  function parseClass(at: number): RNode {
    let negate = false;
    if (pattern[pos] === "^") {
      negate = true;
      pos++;
    }
    const preds: Pred[] = [];
    let first = true;
    while (pos < pattern.length && (pattern[pos] !== "]" || first)) {
      if (pattern[pos] === "]" && first) throw new RegexError("empty character class '[]'", at);
      first = false;
      const lo = classAtom();
      if (pattern[pos] === "-" && pattern[pos + 1] !== "]" && pos + 1 < pattern.length) {
        pos++;
        const hi = classAtom();
        if (typeof lo !== "number" || typeof hi !== "number") throw new RegexError("a range cannot use a class escape like \\d", pos - 1);
        if (hi < lo) throw new RegexError("character range is out of order", pos - 1);
        preds.push((x) => x >= lo && x <= hi);
      } else preds.push(typeof lo === "number" ? eq(lo) : lo);
    }
    if (pattern[pos] !== "]") throw new RegexError("unclosed character class '['", at);
    pos++;
    const any: Pred = (x) => preds.some((p) => p(x));
    return { t: "char", test: negate ? (x) => !any(x) : any };
  }

  function classAtom(): number | Pred {
    const c = pattern[pos] as string;
    pos++;
    if (c !== "\\") return c.charCodeAt(0);
    const p = parseEscape(pos - 1, true);
    return (p as Pred & { code?: number }).code ?? p;
  }

  function parseEscape(at: number, inClass: boolean): Pred {
    const e = pattern[pos];
    if (e === undefined) throw new RegexError("pattern ends with a lone backslash", at);
    pos++;
    switch (e) {
      case "d":
        return isDigitC;
      case "D":
        return (x) => !isDigitC(x);
      case "w":
        return isWord;
      case "W":
        return (x) => !isWord(x);
      case "s":
        return isSpace;
      case "S":
        return (x) => !isSpace(x);
      case "n":
        return code(10);
      case "t":
        return code(9);
      case "r":
        return code(13);
      case "f":
        return code(12);
      case "v":
        return code(11);
      case "x": {
        const h = pattern.slice(pos, pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new RegexError("\\x needs two hex digits", at);
        pos += 2;
        return code(parseInt(h, 16));
      }
      case "u": {
        const h = pattern.slice(pos, pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new RegexError("\\u needs four hex digits", at);
        pos += 4;
        return code(parseInt(h, 16));
      }
      default:
        if (/[0-9]/.test(e)) throw new RegexError("backreferences (\\1 ...) are not supported", at);
        if (/[A-Za-z]/.test(e)) throw new RegexError(`unsupported escape '\\${e}'${e === "b" || e === "B" ? " (word boundaries are not supported)" : ""}`, at);
        void inClass;
        return code(e.charCodeAt(0));
    }
  }
}

function code(c: number): Pred {
  const p = ((x: number) => x === c) as Pred & { code: number };
  p.code = c;
  return p;
}
const eq = code;
const isDigitC: Pred = (x) => x >= 48 && x <= 57;
const isWord: Pred = (x) => (x >= 48 && x <= 57) || (x >= 65 && x <= 90) || (x >= 97 && x <= 122) || x === 95;
const isSpace: Pred = (x) => x === 32 || (x >= 9 && x <= 13) || x === 160 || x === 0xfeff || x === 0x2028 || x === 0x2029;
const lowerCode = (x: number) => (x >= 65 && x <= 90 ? x + 32 : x);
const upperCode = (x: number) => (x >= 97 && x <= 122 ? x - 32 : x);

/** Unanchored search by Thompson simulation: one pass over the subject, each state at most once per position. */
function simulate(states: State[], start: number, subject: string, tick: (n: number) => void): boolean {
  const mark = new Int32Array(states.length).fill(-1);
  let current: number[] = [];
  let next: number[] = [];
  const stack: number[] = [];
  const add = (list: number[], s: number, pos: number, gen: number): boolean => {
    stack.push(s);
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (mark[id] === gen) continue;
      mark[id] = gen;
      tick(1);
      const st = states[id] as State;
      switch (st.k) {
        case "match":
          stack.length = 0;
          return true;
        case "char":
          list.push(id);
          break;
        case "split":
          stack.push(st.out2, st.out);
          break;
        case "bol":
          if (pos === 0 || subject.charCodeAt(pos - 1) === 10) stack.push(st.out);
          break;
        case "eol":
          if (pos === subject.length || subject.charCodeAt(pos) === 10) stack.push(st.out);
          break;
      }
    }
    return false;
  };
  for (let pos = 0; pos <= subject.length; pos++) {
    // generation `pos` marks states already in the list for this position
    if (add(current, start, pos, pos)) return true;
    if (pos === subject.length) break;
    const c = subject.charCodeAt(pos);
    next.length = 0;
    for (const id of current) {
      const st = states[id] as { k: "char"; test: Pred; out: number };
      tick(1);
      if (st.test(c) && add(next, st.out, pos + 1, pos + 1)) return true;
    }
    [current, next] = [next, current];
  }
  return false;
}
