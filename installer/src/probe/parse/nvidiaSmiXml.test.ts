import { describe, expect, it } from "vitest";
import { parseNvidiaSmiXml } from "./nvidiaSmiXml.js";
import { capture } from "./testFixtures.js";

describe("parseNvidiaSmiXml on real captures", () => {
  it("A100 80GB, driver 535 (DTD v12), MIG with four 1g.20gb devices", () => {
    const r = parseNvidiaSmiXml(capture("nvsmi-xml-a100-80gb-mig-535", "nvidia-smi-q-x.xml"));
    expect(r.value.driverVersion).toBe("535.54.03");
    expect(r.value.cudaVersion).toBe("12.2");
    expect(r.value.gpus).toHaveLength(1);
    const g = r.value.gpus[0];
    expect(g).toMatchObject({
      index: 0,
      vendor: "nvidia",
      model: "NVIDIA A100-SXM4-80GB",
      uuid: "GPU-513536b6-7d19-9063-b049-1e69664bb298",
      pciBusId: "00000000:01:00.0",
      memoryMiB: 81920,
      migMode: "enabled",
      source: "nvidia-smi",
    });
    expect(g?.migDevices.map((d) => d.memoryMiB)).toEqual([19968, 19968, 19968, 19968]);
    // The publisher kept one of the four <gpu> elements; the parser says so.
    expect(r.warnings.map((w) => w.message)).toEqual(["attached_gpus says 4 but 1 <gpu> element(s) were found"]);
  });

  it("A100 40GB, older driver 510 (DTD v11), MIG with two devices", () => {
    const r = parseNvidiaSmiXml(capture("nvsmi-xml-a100-40gb-mig-510", "nvidia-smi-q-x.xml"));
    expect(r.warnings).toEqual([]);
    expect(r.value.driverVersion).toBe("510.47.03");
    expect(r.value.cudaVersion).toBe("11.6");
    expect(r.value.gpus[0]).toMatchObject({
      model: "NVIDIA A100-SXM4-40GB",
      uuid: "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a",
      pciBusId: "00000000:00:04.0",
      memoryMiB: 40960,
      migMode: "enabled",
    });
    expect(r.value.gpus[0]?.migDevices).toHaveLength(2);
  });

  it("a real capture cut in half still yields what was read, never throws", () => {
    const full = capture("nvsmi-xml-a100-40gb-mig-510", "nvidia-smi-q-x.xml");
    const r = parseNvidiaSmiXml(full.slice(0, Math.floor(full.length / 2)));
    expect(r.value.driverVersion === null || r.value.driverVersion === "510.47.03").toBe(true);
  });

  it("not XML at all gives no GPUs and a warning", () => {
    const r = parseNvidiaSmiXml("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    expect(r.value.gpus).toEqual([]);
    expect(r.warnings).toHaveLength(1);
  });
});
