import { describe, expect, it } from "vitest";
import { parseCaptures } from "./index.js";
import { parseLspci } from "./lspci.js";
import { parseNvidiaSmiXml } from "./nvidiaSmiXml.js";
import { capture } from "./testFixtures.js";

describe("consumer GeForce card (nvidia-smi -q -x, MIG N/A)", () => {
  it("GTX 1050: one GPU, 4096 MiB, migMode null, driver 515.65.01, CUDA 11.7", () => {
    const r = parseNvidiaSmiXml(capture("nvsmi-xml-geforce-gtx1050-515", "nvidia-smi-q-x.xml"));
    expect(r.warnings).toEqual([]);
    expect(r.value.driverVersion).toBe("515.65.01");
    expect(r.value.cudaVersion).toBe("11.7");
    expect(r.value.gpus).toEqual([
      {
        index: 0,
        vendor: "nvidia",
        model: "NVIDIA GeForce GTX 1050",
        uuid: "GPU-06e04616-0ed5-4069-5ebc-345349a0d4f3",
        pciBusId: "00000000:01:00.0",
        memoryMiB: 4096,
        migMode: null,
        migDevices: [],
        source: "nvidia-smi",
      },
    ]);
  });
});

describe("lspci -nn with 8 GPUs (DGX H200)", () => {
  const text = capture("lspci-h200-8gpu", "lspci.txt");

  it("eight NVIDIA 3D controllers, model as lspci names it, no memory", () => {
    const r = parseLspci(text);
    expect(r.warnings).toEqual([]);
    expect(r.value.devices).toHaveLength(8);
    expect(r.value.hcas).toEqual([]);
    expect(r.value.gpus.map((g) => [g.index, g.vendor, g.model, g.pciBusId, g.memoryMiB, g.source])).toEqual(
      ["1b:00.0", "43:00.0", "52:00.0", "61:00.0", "9d:00.0", "c3:00.0", "d1:00.0", "df:00.0"].map((bus, i) => [
        i,
        "nvidia",
        "NVIDIA Corporation GH100 [H200 SXM 141GB]",
        bus,
        null,
        "lspci",
      ]),
    );
    expect(r.value.devices[0]).toMatchObject({ classCode: "0302", vendorId: "10de", deviceId: "2335" });
  });

  it("parseCaptures: lspci GPUs plus the driver from the kernel module when nvidia-smi is absent", () => {
    const f = parseCaptures(
      "h",
      new Map([
        ["lspci.txt", text],
        ["nvidia-version.txt", capture("nvidia-version-open-565", "nvidia-version.txt")],
      ]),
    );
    expect(f.gpus).toHaveLength(8);
    expect(f.gpuDriver).toEqual({ version: "565.57.01", cudaVersion: null });
    expect(f.warnings).toEqual([]);
  });

  it("nvidia-smi wins over lspci when both are present", () => {
    const f = parseCaptures(
      "h",
      new Map([
        ["lspci.txt", text],
        ["nvidia-smi-q-x.xml", capture("nvsmi-xml-geforce-gtx1050-515", "nvidia-smi-q-x.xml")],
      ]),
    );
    expect(f.gpus.map((g) => g.source)).toEqual(["nvidia-smi"]);
  });
});
