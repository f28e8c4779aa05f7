// Small building blocks shared by the screens: the frame (title, body, key hints), a keyboard list selector and a
// scrolling window over pre-rendered lines. All fit the terminal the TermProvider describes.
import { useRef, useState, type ReactNode } from "react";
import { Box, useInput } from "ink";
import { glyphs, T, useTerm, type Tone } from "./theme.js";

/** The wizard's steps, in order, for the "3/7" in each title. */
export const STEPS = ["Welcome", "Hosts", "Probe", "Preflight", "Plan", "Install", "Done"] as const;

/** Rows the frame itself takes (title, two rules, hints); a screen's body gets `rows - FRAME_ROWS`. */
export const FRAME_ROWS = 4;

/** Title line, a rule, the body (height-capped), a rule and the key hints: every screen looks the same. */
export function Frame(props: { step: (typeof STEPS)[number]; hints: string[]; children?: ReactNode; status?: { text: string; tone: Tone } | null }): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const index = STEPS.indexOf(props.step) + 1;
  const rule = g.rule.repeat(term.columns);
  return (
    <Box flexDirection="column" width={term.columns}>
      <Box>
        <T bold tone="accent" max={term.columns}>{`OMStack install ${g.rule} step ${index}/${STEPS.length}: ${props.step}`}</T>
      </Box>
      <T tone="dim">{rule}</T>
      <Box flexDirection="column" height={term.rows - FRAME_ROWS} overflow="hidden">
        {props.children}
      </Box>
      <T tone="dim">{rule}</T>
      <T tone={props.status?.tone ?? "dim"}>{props.status ? props.status.text : props.hints.join("  ")}</T>
    </Box>
  );
}

/** One pre-rendered line of a list: its text and tone. */
export interface Line {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

/** Shows `height` lines starting at the line that keeps `focus` visible, with "more" markers when clipped. */
export function Window(props: { lines: Line[]; height: number; focus?: number }): ReactNode {
  const term = useTerm();
  const { lines, height } = props;
  if (height <= 0) return null;
  if (lines.length <= height) return <Box flexDirection="column">{lines.map((l, i) => <T key={i} tone={l.tone} bold={l.bold}>{l.text}</T>)}</Box>;
  const room = Math.max(1, height - 2);
  const focus = Math.min(Math.max(props.focus ?? 0, 0), lines.length - 1);
  const start = Math.max(0, Math.min(focus - Math.floor(room / 2), lines.length - room));
  const shown = lines.slice(start, start + room);
  const up = term.ascii ? "^" : "↑";
  const down = term.ascii ? "v" : "↓";
  return (
    <Box flexDirection="column">
      <T tone="dim">{start > 0 ? `  ${up} ${start} more` : " "}</T>
      {shown.map((l, i) => <T key={start + i} tone={l.tone} bold={l.bold}>{l.text}</T>)}
      <T tone="dim">{start + room < lines.length ? `  ${down} ${lines.length - start - room} more` : " "}</T>
    </Box>
  );
}

/** A choice list for the keyboard: arrows or the item's number, Enter to pick. */
export function Select<V>(props: { items: { label: string; value: V }[]; onSelect: (v: V) => void; isActive?: boolean; initial?: number }): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const [index, setIndex] = useState(props.initial ?? 0);
  useKeys(
    (input, key) => {
      if (key.upArrow) setIndex((i) => (i + props.items.length - 1) % props.items.length);
      else if (key.downArrow) setIndex((i) => (i + 1) % props.items.length);
      else if (key.return) props.onSelect(props.items[index]!.value);
      else if (/^[1-9]$/.test(input) && Number(input) <= props.items.length) {
        setIndex(Number(input) - 1);
        props.onSelect(props.items[Number(input) - 1]!.value);
      }
    },
    { isActive: props.isActive ?? true },
  );
  return (
    <Box flexDirection="column">
      {props.items.map((it, i) => (
        <T key={i} tone={i === index ? "accent" : "normal"} bold={i === index}>{`${i === index ? g.pointer : " "} ${i + 1}. ${it.label}`}</T>
      ))}
    </Box>
  );
}

/** Pads or cuts to exactly `n` characters, for table columns. */
export function col(s: string, n: number): string {
  return s.length > n ? s.slice(0, Math.max(0, n - 1)) + "~" : s.padEnd(n);
}

/**
 * A one-line text input that stays mounted between entries (clearOnSubmit), so fast typing and pasted lists are not
 * lost while React re-renders; a pasted block with newlines submits each line. `mask` shows '*' per character.
 */
export function LineInput(props: { initial?: string; placeholder?: string; mask?: boolean; clearOnSubmit?: boolean; isActive?: boolean; onSubmit: (value: string) => void }): ReactNode {
  const term = useTerm();
  const [value, setValue] = useState(props.initial ?? "");
  const current = useRef(value);
  // ink re-subscribes input handlers in an effect; until then the old handler runs, so it must reach the newest callback
  const onSubmit = useRef(props.onSubmit);
  onSubmit.current = props.onSubmit;
  const set = (v: string) => {
    current.current = v;
    setValue(v);
  };
  const submit = () => {
    const v = current.current;
    if (props.clearOnSubmit) set("");
    onSubmit.current(v);
  };
  useKeys(
    (input, key) => {
      if (key.return) return submit();
      if (key.backspace || key.delete) return set(current.current.slice(0, -1));
      if (key.ctrl || key.meta || key.escape || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.tab) return;
      const parts = input.split(/\r\n|\r|\n/);
      parts.forEach((part, i) => {
        // ink hands a run of plain bytes over as one input: Backspaces that came together (a held key, a slow SSH
        // link) are in it, each deleting one character; other control characters are dropped
        let v = current.current;
        for (const ch of part) {
          if (ch === "\u007f" || ch === "\b") v = v.slice(0, -1);
          else if (!/[\u0000-\u001f]/.test(ch)) v += ch;
        }
        set(v);
        if (i < parts.length - 1) submit();
      });
    },
    { isActive: props.isActive ?? true },
  );
  const shown = props.mask ? "*".repeat(value.length) : value;
  const cursor = term.ascii ? "_" : "█";
  return value === "" && props.placeholder ? <T tone="dim">{`${cursor}${props.placeholder}`}</T> : <T>{`${shown}${cursor}`}</T>;
}

/**
 * useInput whose handler is always the one from the latest render. ink re-subscribes handlers in a passive effect,
 * which a loaded machine runs late; until then a plain useInput would judge a key by the state before the last one.
 */
export function useKeys(handler: Parameters<typeof useInput>[0], opts: { isActive?: boolean } = {}): void {
  const ref = useRef(handler);
  ref.current = handler;
  const active = useRef(opts.isActive ?? true);
  active.current = opts.isActive ?? true;
  useInput((input, key) => {
    if (active.current) ref.current(input, key);
  });
}
