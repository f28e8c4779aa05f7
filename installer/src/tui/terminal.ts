// What the terminal can show: ASCII only (serial consoles, non-UTF-8 locales, --ascii) and colour (NO_COLOR, dumb TTYs).

/** Display capabilities the wizard renders for; decided once by the entry point and passed down. */
export interface TermCaps {
  ascii: boolean;
  color: boolean;
}

/** True when the locale promises UTF-8 (LC_ALL, then LC_CTYPE, then LANG, as setlocale reads them). */
export function isUtf8Locale(env: Readonly<Record<string, string | undefined>>): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale);
}

/** ASCII when asked or when the locale is not UTF-8; colour only on a TTY without NO_COLOR (https://no-color.org) and not TERM=dumb. */
export function detectTermCaps(env: Readonly<Record<string, string | undefined>>, flags: { ascii?: boolean }, isTTY: boolean): TermCaps {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return {
    ascii: Boolean(flags.ascii) || !isUtf8Locale(env),
    color: isTTY && !noColor && env.TERM !== "dumb",
  };
}

const REPLACEMENTS: Record<string, string> = {
  "→": "->", "←": "<-", "↑": "^", "↓": "v", "—": "--", "–": "-", "…": "...", "≥": ">=", "≤": "<=", "×": "x", "·": "-",
  "✓": "+", "✔": "+", "✗": "x", "✘": "x", "•": "*", "‘": "'", "’": "'", "“": '"', "”": '"', "─": "-", "│": "|", "▶": ">",
  "µ": "u", "°": "deg", " ": " ",
};

/** Transliterates text to printable ASCII: known symbols get ASCII spellings, anything else becomes "?". */
export function toAscii(s: string): string {
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out += ch;
    else out += REPLACEMENTS[ch] ?? "?";
  }
  return out;
}

/** Cuts a line to `max` characters, marking the cut ("..." in ASCII, "…" otherwise) so nothing relies on ink's Unicode ellipsis. */
export function fitLine(s: string, max: number, ascii: boolean): string {
  if (max <= 0) return "";
  if (s.length <= max) return s;
  const mark = ascii ? "..." : "…";
  return max <= mark.length ? s.slice(0, max) : s.slice(0, max - mark.length) + mark;
}

/** Splits text into lines of at most `width` characters at spaces (long words are cut), for fixed-height detail panes. */
export function wrapText(s: string, width: number): string[] {
  const out: string[] = [];
  for (const para of s.split("\n")) {
    let line = "";
    for (const word of para.split(/\s+/).filter(Boolean)) {
      let w = word;
      while (w.length > width) {
        if (line) (out.push(line), (line = ""));
        out.push(w.slice(0, width));
        w = w.slice(width);
      }
      if (!line) line = w;
      else if (line.length + 1 + w.length <= width) line += " " + w;
      else (out.push(line), (line = w));
    }
    out.push(line);
  }
  return out;
}
