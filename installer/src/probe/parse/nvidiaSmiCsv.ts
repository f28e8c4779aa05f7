// `nvidia-smi --query-gpu=<fields> --format=csv[,nounits]` with its header → GPUs, driver and MIG mode.
import type { GpuFacts } from "../facts.js";
import { EMPTY_SMI, migModeOf, versionOf, type NvidiaSmiFacts } from "./nvidiaSmi.js";
import { isNotAvailable, lines, safely, toInt, toMiB, type Parsed } from "./util.js";

/** Header names with their aliases (nvidia-smi accepts both spellings). */
const FIELDS: Record<string, string[]> = {
  name: ["name", "gpu_name"],
  uuid: ["uuid", "gpu_uuid"],
  bus: ["pci.bus_id", "gpu_bus_id"],
  memory: ["memory.total"],
  index: ["index"],
  driver: ["driver_version"],
  mig: ["mig.mode.current"],
};

/** Columns are found by header name ("memory.total [MiB]" → memory.total), so any field order works. */
export function parseNvidiaSmiCsv(text: string): Parsed<NvidiaSmiFacts> {
  return safely("nvidia-smi-query.csv", EMPTY_SMI, (sink) => {
    const rows = lines(text).filter((l) => l.trim() !== "");
    const header = rows[0]?.split(",").map((h) => h.trim().replace(/\s*\[[^\]]*\]$/, "").toLowerCase()) ?? [];
    const col = (field: string): number => {
      for (const alias of FIELDS[field] ?? []) {
        const i = header.indexOf(alias);
        if (i >= 0) return i;
      }
      return -1;
    };
    if (col("name") < 0 && col("uuid") < 0) {
      sink.add("no header with name or uuid found; capture with --format=csv (without noheader)");
      return EMPTY_SMI;
    }
    let driver: string | null = null;
    const gpus: GpuFacts[] = [];
    rows.slice(1).forEach((row, i) => {
      const cells = row.split(",").map((c) => c.trim());
      if (cells.length !== header.length) {
        sink.add(`row ${i + 1} has ${cells.length} cells, the header has ${header.length}`);
        if (cells.length < 2) return;
      }
      const get = (f: string): string | null => {
        const c = col(f);
        const v = c >= 0 ? cells[c] : undefined;
        return v === undefined || isNotAvailable(v) ? null : v;
      };
      driver = driver ?? versionOf(get("driver"));
      gpus.push({
        index: toInt(get("index")) ?? i,
        vendor: "nvidia",
        model: get("name") ?? "unknown NVIDIA GPU",
        uuid: get("uuid"),
        pciBusId: get("bus"),
        memoryMiB: toMiB(get("memory") ?? undefined),
        migMode: migModeOf(get("mig")),
        migDevices: [],
        source: "nvidia-smi",
      });
    });
    return { gpus, driverVersion: driver, cudaVersion: null };
  });
}
