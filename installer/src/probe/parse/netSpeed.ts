// net-speed.txt ("<iface> <Mb/s>" per line, "-" when unknown) → link speed per NIC.
import { lines, safely, toInt, type Parsed } from "./util.js";

/** Negative speeds (-1: link down) and "-" become null. */
export function parseNetSpeed(text: string): Parsed<Map<string, number | null>> {
  return safely("net-speed.txt", new Map(), (sink) => {
    const out = new Map<string, number | null>();
    for (const line of lines(text)) {
      if (line.trim() === "") continue;
      const [name, speed, ...rest] = line.trim().split(/\s+/);
      if (!name || speed === undefined || rest.length > 0) {
        sink.add(`unreadable line "${line.slice(0, 80)}"`);
        continue;
      }
      const n = toInt(speed);
      out.set(name, n !== null && n > 0 ? n : null);
    }
    return out;
  });
}
