// The terminal context every screen renders with (ASCII/colour/size) and the one Text wrapper that honours it.
import { createContext, useContext, type ReactNode } from "react";
import { Text } from "ink";
import { fitLine, toAscii, type TermCaps } from "./terminal.js";

/** Capabilities plus the size to lay out for (the wizard keeps it current on resize). */
export interface Term extends TermCaps {
  columns: number;
  rows: number;
}

const TermContext = createContext<Term>({ ascii: true, color: false, columns: 80, rows: 24 });

/** Provides the terminal facts to every screen (a prop of the tree, never a module global). */
export const TermProvider = TermContext.Provider;

/** The terminal facts of the current tree. */
export function useTerm(): Term {
  return useContext(TermContext);
}

/** Status glyphs in both alphabets; ASCII ones are words so a serial console stays readable. */
export function glyphs(ascii: boolean) {
  return ascii
    ? { ok: "ok", fail: "FAIL", warn: "warn", bypass: "BYPASS", pointer: ">", rule: "-", running: ">", pending: ".", done: "+", skip: "-", failCell: "X", plan: "~", blocked: "#", bullet: "*" }
    : { ok: "✓", fail: "✗", warn: "!", bypass: "⤼", pointer: "›", rule: "─", running: "▶", pending: "·", done: "✓", skip: "–", failCell: "✗", plan: "~", blocked: "#", bullet: "•" };
}

/** Semantic tones; mapped to colours only when colour is allowed. */
export type Tone = "ok" | "bad" | "warn" | "dim" | "accent" | "normal";

const COLORS: Record<Tone, string | undefined> = { ok: "green", bad: "red", warn: "yellow", dim: "gray", accent: "cyan", normal: undefined };

function flatten(children: ReactNode): string {
  if (children === null || children === undefined || children === false || children === true) return "";
  if (Array.isArray(children)) return children.map(flatten).join("");
  return String(children);
}

/**
 * Text transliterated to ASCII when needed and coloured only when allowed. One line, cut at `max` (default: the
 * terminal width) by us, so the cut mark is ASCII too; `wrap` lets ink wrap instead.
 */
export function T(props: { tone?: Tone; bold?: boolean; inverse?: boolean; wrap?: boolean; max?: number; children?: ReactNode }): ReactNode {
  const term = useTerm();
  const raw = flatten(props.children);
  const ascii = term.ascii ? toAscii(raw) : raw;
  const text = props.wrap ? ascii : fitLine(ascii.replace(/\n/g, " "), props.max ?? term.columns, term.ascii);
  const color = term.color ? COLORS[props.tone ?? "normal"] : undefined;
  return (
    <Text color={color} bold={props.bold ?? false} inverse={(term.color && props.inverse) ?? false} wrap="wrap">
      {text}
    </Text>
  );
}
