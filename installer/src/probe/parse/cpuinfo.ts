// /proc/cpuinfo → model, sockets, cores, threads and flags (x86 and ARM layouts).
import type { CpuFacts } from "../facts.js";
import { lines, safely, splitKeyValue, toInt, type Parsed } from "./util.js";

/** Counts logical CPUs, distinct physical ids (sockets) and distinct (socket, core id) pairs (cores). */
export function parseCpuinfo(text: string): Parsed<CpuFacts | null> {
  return safely("cpuinfo.txt", null, (sink) => {
    let threads = 0;
    let model: string | null = null;
    let flags: string[] | null = null;
    const sockets = new Set<string>();
    const cores = new Set<string>();
    const coresPerSocket = new Map<string, number>();
    let physical: string | null = null;
    for (const line of lines(text)) {
      const kv = splitKeyValue(line);
      if (!kv) continue;
      const [key, value] = kv;
      switch (key) {
        case "processor":
          if (toInt(value) !== null) {
            threads++;
            physical = null;
          }
          break;
        case "model name":
        case "Model":
        case "cpu model":
          if (model === null && value !== "") model = value;
          break;
        case "physical id":
          physical = value;
          sockets.add(value);
          break;
        case "core id":
          cores.add(`${physical ?? "?"}/${value}`);
          break;
        case "cpu cores": {
          const n = toInt(value);
          if (n !== null && physical !== null) coresPerSocket.set(physical, n);
          break;
        }
        case "flags":
        case "Features":
          if (flags === null) flags = value.split(/\s+/).filter((f) => f !== "");
          break;
      }
    }
    if (threads === 0) {
      sink.add("no processor entries found");
      return null;
    }
    let coreCount: number | null = null;
    if (coresPerSocket.size > 0) coreCount = [...coresPerSocket.values()].reduce((a, b) => a + b, 0);
    else if (cores.size > 0) coreCount = cores.size;
    return {
      model,
      sockets: sockets.size > 0 ? sockets.size : null,
      cores: coreCount,
      threads,
      flags: flags ?? [],
    };
  });
}
