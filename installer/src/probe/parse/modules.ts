// /proc/modules (or lsmod) → names of the loaded kernel modules.
import { lines, safely, type Parsed } from "./util.js";

/** The first column of each line; lsmod's "Module Size Used by" header is skipped. */
export function parseModules(text: string): Parsed<string[]> {
  return safely("modules.txt", [], () => {
    const names: string[] = [];
    for (const line of lines(text)) {
      const name = line.trim().split(/\s+/)[0];
      if (!name || name === "Module" || !/^[A-Za-z0-9_-]+$/.test(name)) continue;
      names.push(name);
    }
    return names;
  });
}
