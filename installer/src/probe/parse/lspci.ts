// lspci (with or without -D / -nn) → GPUs (model as lspci names it) and Mellanox/NVIDIA HCAs.
import type { GpuFacts } from "../facts.js";
import { lines, safely, type Parsed } from "./util.js";

export interface PciDevice {
  address: string;
  className: string;
  classCode: string | null;
  vendorId: string | null;
  deviceId: string | null;
  description: string;
}

export interface LspciFacts {
  devices: PciDevice[];
  gpus: GpuFacts[];
  hcas: PciDevice[];
}

const LINE = /^((?:[0-9a-f]{4,}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f])\s+(.+?)(?:\s\[([0-9a-f]{4})\])?:\s+(.*)$/i;

/** One PciDevice per line; GPUs are display-class devices (03xx) of NVIDIA (10de) or AMD (1002). */
export function parseLspci(text: string): Parsed<LspciFacts> {
  return safely("lspci.txt", { devices: [], gpus: [], hcas: [] }, (sink) => {
    const devices: PciDevice[] = [];
    for (const line of lines(text)) {
      if (line.trim() === "" || /^\s/.test(line)) continue; // -v detail lines
      const m = LINE.exec(line.trim());
      if (!m || m[1] === undefined || m[2] === undefined || m[4] === undefined) {
        sink.add(`unreadable line "${line.slice(0, 80)}"`);
        continue;
      }
      let desc = m[4].replace(/\s+\((?:rev|prog-if)\s[^)]*\)/g, "").trim();
      let vendorId: string | null = null;
      let deviceId: string | null = null;
      const ids = /\s*\[([0-9a-f]{4}):([0-9a-f]{4})\]\s*$/i.exec(desc);
      if (ids) {
        vendorId = ids[1]?.toLowerCase() ?? null;
        deviceId = ids[2]?.toLowerCase() ?? null;
        desc = desc.slice(0, ids.index).trim();
      }
      devices.push({ address: m[1], className: m[2], classCode: m[3]?.toLowerCase() ?? null, vendorId, deviceId, description: desc });
    }
    const gpus: GpuFacts[] = devices.filter(isGpu).map((d, index) => ({
      index,
      vendor: vendorOf(d) === "nvidia" ? "nvidia" : vendorOf(d) === "amd" ? "amd" : "other",
      model: d.description,
      uuid: null,
      pciBusId: d.address,
      memoryMiB: null,
      migMode: null,
      migDevices: [],
      source: "lspci",
    }));
    const hcas = devices.filter(
      (d) => vendorOf(d) === "mellanox" && /infiniband|ethernet|network/i.test(d.className) && !/virtual function/i.test(d.description),
    );
    return { devices, gpus, hcas };
  });
}

function vendorOf(d: PciDevice): "nvidia" | "amd" | "mellanox" | null {
  if (d.vendorId === "10de" || /^NVIDIA Corporation/i.test(d.description)) return "nvidia";
  if (d.vendorId === "1002" || /^(Advanced Micro Devices|AMD|ATI)/i.test(d.description)) return "amd";
  if (d.vendorId === "15b3" || /^Mellanox/i.test(d.description)) return "mellanox";
  return null;
}

function isGpu(d: PciDevice): boolean {
  const display = d.classCode ? d.classCode.startsWith("03") : /^(VGA compatible controller|3D controller|Display controller)$/i.test(d.className);
  const v = vendorOf(d);
  return display && (v === "nvidia" || v === "amd");
}
