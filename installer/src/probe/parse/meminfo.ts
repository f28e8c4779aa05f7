// /proc/meminfo → memory totals and SwapTotal (the swap fallback when /proc/swaps is missing).
import type { MemoryFacts } from "../facts.js";
import { lines, safely, type Parsed } from "./util.js";

export interface MeminfoFacts {
  memory: MemoryFacts | null;
  swapTotalBytes: number | null;
}

/** Values are in kB (KiB) as the kernel prints them; converted to bytes. */
export function parseMeminfo(text: string): Parsed<MeminfoFacts> {
  return safely("meminfo.txt", { memory: null, swapTotalBytes: null }, (sink) => {
    const kv = new Map<string, number>();
    for (const line of lines(text)) {
      const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
      if (!m || m[1] === undefined || m[2] === undefined) continue;
      const n = Number(m[2]);
      const bytes = /kB\s*$/.test(line) ? n * 1024 : n;
      if (Number.isSafeInteger(bytes)) kv.set(m[1], bytes);
    }
    const total = kv.get("MemTotal");
    if (total === undefined) sink.add("no MemTotal line found");
    return {
      memory: total === undefined ? null : { totalBytes: total, availableBytes: kv.get("MemAvailable") ?? null },
      swapTotalBytes: kv.get("SwapTotal") ?? null,
    };
  });
}
