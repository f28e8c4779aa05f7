// `nvidia-smi -q` text (nvidia-smi-q.txt) → the same facts as the XML form, for hand-collected captures.
import type { GpuFacts, MigDevice } from "../facts.js";
import { EMPTY_SMI, migModeOf, versionOf, type NvidiaSmiFacts } from "./nvidiaSmi.js";
import { isNotAvailable, lines, safely, toMiB, type Parsed } from "./util.js";

interface Entry {
  key: string;
  value: string | null;
  children: Entry[];
}

/** Builds an indentation tree of "Key : Value" and section lines. */
function tree(text: string): Entry[] {
  const root: Entry = { key: "", value: null, children: [] };
  const stack: { indent: number; entry: Entry }[] = [{ indent: -1, entry: root }];
  for (const raw of lines(text)) {
    if (raw.trim() === "" || /^=+/.test(raw.trim())) continue;
    const indent = raw.length - raw.trimStart().length;
    const i = raw.indexOf(" : ");
    const colonEnd = /\s:\s*$/.test(raw);
    const key = (i >= 0 ? raw.slice(0, i) : colonEnd ? raw.replace(/\s:\s*$/, "") : raw).trim();
    const value = i >= 0 ? raw.slice(i + 3).trim() : null;
    const entry: Entry = { key, value, children: [] };
    while (stack.length > 1 && (stack.at(-1)?.indent ?? -1) >= indent) stack.pop();
    stack.at(-1)?.entry.children.push(entry);
    stack.push({ indent, entry });
  }
  return root.children;
}

function find(entries: Entry[], ...path: string[]): Entry | undefined {
  let cur: Entry | undefined;
  let list = entries;
  for (const p of path) {
    cur = list.find((e) => e.key.toLowerCase() === p.toLowerCase());
    if (!cur) return undefined;
    list = cur.children;
  }
  return cur;
}

function val(entries: Entry[], ...path: string[]): string | null {
  const v = find(entries, ...path)?.value;
  return v === undefined || v === null || isNotAvailable(v) ? null : v;
}

/** GPUs start at lines "GPU 00000000:17:00.0"; MIG devices sit under "MIG devices" → "Device N". */
export function parseNvidiaSmiText(text: string): Parsed<NvidiaSmiFacts> {
  return safely("nvidia-smi-q.txt", EMPTY_SMI, (sink) => {
    const top = tree(text);
    const gpuEntries = top.filter((e) => /^GPU\s+[0-9a-f]+:[0-9a-f]+:[0-9a-f]+\.[0-9a-f]$/i.test(e.key));
    if (gpuEntries.length === 0 && !/Driver Version/.test(text)) {
      sink.add("no NVSMI LOG content found");
      return EMPTY_SMI;
    }
    const gpus: GpuFacts[] = gpuEntries.map((g, index) => {
      const c = g.children;
      const model = val(c, "Product Name");
      if (model === null) sink.add(`GPU ${index}: no Product Name`);
      const migSection = find(c, "MIG devices");
      const migDevices: MigDevice[] = (migSection?.children ?? [])
        .filter((d) => /^Device\s+\d+/i.test(d.key))
        .map((d) => ({
          memoryMiB: toMiB(val(d.children, "FB Memory Usage", "Total") ?? undefined),
          profile: null,
          uuid: null,
        }));
      return {
        index,
        vendor: "nvidia",
        model: model ?? "unknown NVIDIA GPU",
        uuid: val(c, "GPU UUID"),
        pciBusId: val(c, "PCI", "Bus Id") ?? g.key.replace(/^GPU\s+/i, ""),
        memoryMiB: toMiB(val(c, "FB Memory Usage", "Total") ?? undefined),
        migMode: migModeOf(val(c, "MIG Mode", "Current")),
        migDevices,
        source: "nvidia-smi",
      };
    });
    return {
      gpus,
      driverVersion: versionOf(val(top, "Driver Version")),
      cudaVersion: versionOf(val(top, "CUDA Version")),
    };
  });
}
