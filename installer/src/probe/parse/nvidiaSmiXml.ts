// `nvidia-smi -q -x` → GPUs with model, UUID, PCI bus id, memory, MIG mode and MIG devices; driver and CUDA.
import { XMLParser } from "fast-xml-parser";
import type { GpuFacts, MigDevice } from "../facts.js";
import { EMPTY_SMI, migModeOf, versionOf, type NvidiaSmiFacts } from "./nvidiaSmi.js";
import { isNotAvailable, safely, toMiB, type Parsed } from "./util.js";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  trimValues: true,
  isArray: (name) => name === "gpu" || name === "mig_device",
});

type Node = Record<string, unknown>;

function child(n: unknown, ...path: string[]): unknown {
  let cur: unknown = n;
  for (const p of path) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Node)[p];
  }
  return cur;
}

function text(n: unknown): string | null {
  if (typeof n === "string") return isNotAvailable(n) ? null : n.trim();
  if (typeof n === "number") return String(n);
  const t = child(n, "#text");
  return typeof t === "string" && !isNotAvailable(t) ? t.trim() : null;
}

/** Works for the old (v6–v11 DTD) and new (v12+) layouts; elements missing on vGPU or GeForce become null. */
export function parseNvidiaSmiXml(xml: string): Parsed<NvidiaSmiFacts> {
  return safely("nvidia-smi-q-x.xml", EMPTY_SMI, (sink) => {
    if (!/<nvidia_smi_log[\s>]/.test(xml)) {
      sink.add("no <nvidia_smi_log> element found");
      return EMPTY_SMI;
    }
    const doc = parser.parse(xml) as Node;
    const log = child(doc, "nvidia_smi_log");
    if (typeof log !== "object" || log === null) {
      sink.add("<nvidia_smi_log> is empty");
      return EMPTY_SMI;
    }
    const gpusRaw = child(log, "gpu");
    const list = Array.isArray(gpusRaw) ? gpusRaw : [];
    const gpus: GpuFacts[] = [];
    list.forEach((g, index) => {
      if (typeof g !== "object" || g === null) return;
      const model = text(child(g, "product_name"));
      if (model === null) sink.add(`GPU ${index}: no <product_name>`);
      const busId = text(child(g, "pci", "pci_bus_id")) ?? text(child(g, "@_id"));
      const devices = child(g, "mig_devices", "mig_device");
      const migDevices: MigDevice[] = Array.isArray(devices)
        ? devices.map((d) => ({
            memoryMiB: toMiB(text(child(d, "fb_memory_usage", "total"))),
            profile: text(child(d, "profile_name")) ?? text(child(d, "gpu_instance_profile")),
            uuid: text(child(d, "uuid")),
          }))
        : [];
      gpus.push({
        index,
        vendor: "nvidia",
        model: model ?? "unknown NVIDIA GPU",
        uuid: text(child(g, "uuid")),
        pciBusId: busId,
        memoryMiB: toMiB(text(child(g, "fb_memory_usage", "total"))),
        migMode: migModeOf(text(child(g, "mig_mode", "current_mig"))),
        migDevices,
        source: "nvidia-smi",
      });
    });
    const attached = Number(text(child(log, "attached_gpus")));
    if (Number.isInteger(attached) && attached !== gpus.length) {
      sink.add(`attached_gpus says ${attached} but ${gpus.length} <gpu> element(s) were found`);
    }
    return {
      gpus,
      driverVersion: versionOf(text(child(log, "driver_version"))),
      cudaVersion: versionOf(text(child(log, "cuda_version"))),
    };
  });
}
