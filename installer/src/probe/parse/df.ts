// `df -P -B1 /var` → free bytes on the file system holding /var.
import { lines, safely, toInt, type Parsed } from "./util.js";

/** Reads the Available column (4th) of the last data row; sizes are bytes because of -B1. */
export function parseDfVar(text: string): Parsed<number | null> {
  return safely("df-var.txt", null, (sink) => {
    const rows = lines(text).filter((l) => l.trim() !== "" && !/^Filesystem\s/.test(l));
    const last = rows.at(-1);
    if (last === undefined) {
      sink.add("no data row found");
      return null;
    }
    const cols = last.trim().split(/\s+/);
    const avail = toInt(cols[3]);
    if (cols.length < 6 || avail === null) {
      sink.add(`unreadable line "${last.slice(0, 80)}"`);
      return null;
    }
    return avail;
  });
}
