// /proc/swaps → total active swap in bytes (the kubelet wants 0).
import { lines, safely, toInt, type Parsed } from "./util.js";

/** Sums the Size column (KiB); a header-only file means swap is off (0). */
export function parseSwaps(text: string): Parsed<number | null> {
  return safely("swaps.txt", null, (sink) => {
    const rows = lines(text).filter((l) => l.trim() !== "");
    if (rows.length === 0) {
      sink.add("empty output");
      return null;
    }
    let total = 0;
    for (const row of rows) {
      if (/^Filename\s/.test(row)) continue;
      const cols = row.trim().split(/\s+/);
      const size = toInt(cols[2]);
      if (cols.length < 3 || size === null) {
        sink.add(`unreadable line "${row.slice(0, 80)}"`);
        continue;
      }
      total += size * 1024;
    }
    return total;
  });
}
