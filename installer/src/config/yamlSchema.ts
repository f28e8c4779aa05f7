// A tiny schema walker over YAML nodes that reports every mistake with file:line:column.
// Hand-rolled because JSON-schema libraries lose the source positions that IT staff need.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Document } from "yaml";
import { OmstackError, type SourceLocation } from "../errors.js";

/** One schema violation, already positioned in the file. */
export interface SchemaIssue {
  path: string;
  message: string;
  remedy: string;
  location: SourceLocation;
}

/** Parsing context: the file name, the line counter and the issues collected so far. */
export class SchemaContext {
  readonly issues: SchemaIssue[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}
  locate(node: Node | null | undefined): SourceLocation {
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col };
  }
  report(node: Node | null | undefined, path: string, message: string, remedy: string): void {
    this.issues.push({ path, message, remedy, location: this.locate(node) });
  }
}

/** A parsed YAML document plus what is needed to position errors. */
export interface LoadedYaml {
  doc: Document.Parsed;
  ctx: SchemaContext;
}

/** Parses YAML text; syntax errors become E_CONFIG_SYNTAX with the exact position. */
export function parseYamlWithPositions(text: string, file: string): LoadedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true});
  const ctx = new SchemaContext(file, lines);
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    const message = first.code === "DUPLICATE_KEY" ? "the same key appears twice in one mapping" : first.message.split("\n")[0] ?? "invalid YAML";
    throw new OmstackError("E_CONFIG_SYNTAX", `invalid YAML: ${message}`, {
      location: { file, line: pos.line, column: pos.col },
      remedy: "fix the YAML at that position (check indentation, quotes and colons); `omstack.yaml` examples are in docs/inventory.md",
    });
  }
  return { doc, ctx };
}

/** Scalar of a node as a JS value, or undefined when the node is not a scalar. */
export function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}

/** Reads a mapping node into key → {keyNode, valueNode}, reporting keys not in `allowed`. */
export function readMap(
  ctx: SchemaContext,
  node: unknown,
  path: string,
  allowed: readonly string[],
): Map<string, { key: Node; value: Node | null }> | null {
  if (!isMap(node)) {
    ctx.report(node as Node, path, `${path} must be a mapping (key: value pairs), found ${describeNode(node)}`, "write it as `key: value` lines indented under it");
    return null;
  }
  const out = new Map<string, { key: Node; value: Node | null }>();
  for (const pair of node.items) {
    const keyNode = pair.key as Node;
    const key = String(scalarValue(keyNode));
    if (!allowed.includes(key)) {
      const suggestion = closest(key, allowed);
      ctx.report(
        keyNode,
        `${path}.${key}`,
        `unknown key "${key}" in ${path}`,
        suggestion ? `did you mean "${suggestion}"? allowed keys: ${allowed.join(", ")}` : `allowed keys: ${allowed.join(", ")}`,
      );
      continue;
    }
    out.set(key, { key: keyNode, value: (pair.value as Node | null) ?? null });
  }
  return out;
}

/** Sequence items, or null with an issue when the node is not a list. */
export function readSeq(ctx: SchemaContext, node: unknown, path: string): Node[] | null {
  if (!isSeq(node)) {
    ctx.report(node as Node, path, `${path} must be a list (lines starting with "- "), found ${describeNode(node)}`, `write each entry of ${path} on its own "- " line`);
    return null;
  }
  return node.items as Node[];
}

/** A non-empty string scalar (numbers are accepted and turned into text for names like `01`). */
export function readString(ctx: SchemaContext, node: Node | null, path: string): string | null {
  const v = scalarValue(node);
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  ctx.report(node, path, `${path} must be a non-empty string, found ${describeNode(node)}`, `give ${path} a value, e.g. ${path.split(".").pop()}: "…"`);
  return null;
}

/** An integer within [min, max]. */
export function readInt(ctx: SchemaContext, node: Node | null, path: string, min: number, max: number): number | null {
  const v = scalarValue(node);
  if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
  ctx.report(node, path, `${path} must be a whole number from ${min} to ${max}, found ${describeNode(node)}`, `set ${path} to a number between ${min} and ${max}`);
  return null;
}

/** A boolean (true/false only: YAML 1.2 semantics, so "yes" is a string and rejected). */
export function readBool(ctx: SchemaContext, node: Node | null, path: string): boolean | null {
  const v = scalarValue(node);
  if (typeof v === "boolean") return v;
  ctx.report(node, path, `${path} must be true or false, found ${describeNode(node)}`, `write ${path}: true or ${path}: false`);
  return null;
}

/** A list of non-empty strings. */
export function readStringList(ctx: SchemaContext, node: Node | null, path: string): string[] | null {
  const items = readSeq(ctx, node, path);
  if (!items) return null;
  const out: string[] = [];
  items.forEach((item, i) => {
    const s = readString(ctx, item, `${path}[${i}]`);
    if (s !== null) out.push(s);
  });
  return out;
}

/** A mapping of string → string (labels). */
export function readStringMap(ctx: SchemaContext, node: Node | null, path: string): Record<string, string> | null {
  if (!isMap(node)) {
    ctx.report(node, path, `${path} must be a mapping of names to values, found ${describeNode(node)}`, `write ${path} as "key: value" lines`);
    return null;
  }
  const out: Record<string, string> = {};
  for (const pair of node.items) {
    const k = String(scalarValue(pair.key));
    const v = scalarValue(pair.value);
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = String(v);
    else ctx.report(pair.value as Node, `${path}.${k}`, `${path}.${k} must be a plain value, found ${describeNode(pair.value)}`, "use a string, number or true/false");
  }
  return out;
}

/** How a node looks to a human: `a list`, `the number 70000`, `nothing`. */
export function describeNode(node: unknown): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return "nothing (null)";
    if (typeof v === "string") return `the text "${v.length > 40 ? v.slice(0, 40) + "…" : v}"`;
    if (typeof v === "number") return `the number ${v}`;
    if (typeof v === "boolean") return `the boolean ${v}`;
  }
  return "an unexpected value";
}

function closest(word: string, options: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = o;
    }
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
