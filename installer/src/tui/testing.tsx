// Test helpers for the screens: render inside a fixed-size TermProvider, type keys with the pauses ink needs, and
// check that a frame fits the terminal. Used by *.test.tsx and tests/tui; never by the wizard itself.
import type { ReactNode } from "react";
import { render } from "ink-testing-library";
import { TermProvider, type Term } from "./theme.js";

/** Key sequences as a terminal sends them. */
export const KEY = { enter: "\r", esc: "\u001b", up: "\u001b[A", down: "\u001b[B", pageDown: "\u001b[6~", ctrlC: "\u0003", backspace: "\u007f", space: " " } as const;

/** Renders a node as the given terminal (default 80×24, ASCII off, colour off). */
export function renderAt(node: ReactNode, term: Partial<Term> = {}) {
  const t: Term = { ascii: false, color: false, columns: 80, rows: 24, ...term };
  return render(<TermProvider value={t}>{node}</TermProvider>);
}

/** Lets React and ink flush (effects, state updates, the next frame). */
export function tick(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Types each chunk as a separate write (one key or one pasted string), waiting between them. */
export async function press(stdin: { write: (s: string) => void }, ...chunks: string[]): Promise<void> {
  await tick();
  for (const c of chunks) {
    stdin.write(c);
    await tick();
  }
}

/** Waits until the frame satisfies `test` (or throws with the last frame after `ms`). */
export async function waitFor(lastFrame: () => string | undefined, test: (frame: string) => boolean, ms = 3000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const f = lastFrame() ?? "";
    if (test(f)) return f;
    if (Date.now() > end) throw new Error(`timed out waiting; last frame:\n${f}`);
    await tick(20);
  }
}

/** Problems with a frame's size: lines wider than `columns`, more than `rows` lines. */
export function sizeProblems(frame: string, columns = 80, rows = 24): string[] {
  // eslint-disable-next-line no-control-regex
  const lines = frame.replace(/\u001b\[[0-9;]*m/g, "").split("\n");
  const out: string[] = [];
  if (lines.length > rows) out.push(`${lines.length} lines > ${rows}`);
  lines.forEach((l, i) => {
    if ([...l].length > columns) out.push(`line ${i + 1} has ${[...l].length} chars: ${l}`);
  });
  return out;
}

/** True when every character is printable ASCII (or a newline). */
export function isAscii(frame: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e\n]*$/.test(frame.replace(/\u001b\[[0-9;]*m/g, ""));
}
