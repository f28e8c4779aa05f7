import { describe, expect, it } from "vitest";
import { parseNvidiaSmiCsv } from "./nvidiaSmiCsv.js";
import { parseNvidiaSmiText } from "./nvidiaSmiText.js";
import { capture } from "./testFixtures.js";

describe("nvidia-smi -q text and --query-gpu CSV on the same real H100", () => {
  it("-q text", () => {
    const r = parseNvidiaSmiText(capture("nvsmi-q-text-h100-590", "nvidia-smi-q.txt"));
    expect(r.warnings).toEqual([]);
    expect(r.value.driverVersion).toBe("590.48.01");
    expect(r.value.cudaVersion).toBe("13.1");
    expect(r.value.gpus).toEqual([
      {
        index: 0,
        vendor: "nvidia",
        model: "NVIDIA H100 80GB HBM3",
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        pciBusId: "00000000:00:09.0",
        memoryMiB: 81559,
        migMode: "disabled",
        migDevices: [],
        source: "nvidia-smi",
      },
    ]);
  });

  it("query CSV with units (212 columns)", () => {
    const r = parseNvidiaSmiCsv(capture("nvsmi-query-csv-h100-590", "nvidia-smi-query.csv"));
    expect(r.warnings).toEqual([]);
    expect(r.value.driverVersion).toBe("590.48.01");
    expect(r.value.gpus).toHaveLength(1);
    expect(r.value.gpus[0]).toMatchObject({ index: 0, model: "NVIDIA H100 80GB HBM3", pciBusId: "00000000:00:09.0", memoryMiB: 81559, migMode: "disabled" });
  });

  it("the same CSV without the header is refused with a clear warning", () => {
    const body = capture("nvsmi-query-csv-h100-590", "nvidia-smi-query.csv").split("\n").slice(1).join("\n");
    const r = parseNvidiaSmiCsv(body);
    expect(r.value.gpus).toEqual([]);
    expect(r.warnings[0]?.message).toMatch(/header/);
  });
});
