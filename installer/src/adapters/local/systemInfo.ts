// Fills gaps in local facts with systeminformation (e.g. a machine without lspci or a readable cpuinfo).
import type { HostFacts } from "../../probe/facts.js";

/** Adds what systeminformation knows where the captures were silent; never overrides a parsed fact. */
export async function enrichWithSystemInformation(facts: HostFacts): Promise<HostFacts> {
  // Loaded only for local probes: it is large and SSH probes never need it.
  const { default: si } = await import("systeminformation");
  const [cpu, mem, os, graphics] = await Promise.all([
    facts.cpu ? null : si.cpu().catch(() => null),
    facts.memory ? null : si.mem().catch(() => null),
    facts.os ? null : si.osInfo().catch(() => null),
    facts.gpus.length > 0 ? null : si.graphics().catch(() => null),
  ]);
  if (cpu) facts.cpu = { model: `${cpu.manufacturer} ${cpu.brand}`.trim() || null, sockets: Number(cpu.processors) || null, cores: cpu.physicalCores || null, threads: cpu.cores || null, flags: [] };
  if (mem && mem.total > 0) facts.memory = { totalBytes: mem.total, availableBytes: mem.available ?? null };
  if (os && os.distro) facts.os = { id: os.distro.toLowerCase().split(/\s+/)[0] ?? os.distro, versionId: os.release || null, prettyName: os.distro, idLike: [] };
  if (graphics) {
    graphics.controllers
      .filter((c) => /nvidia|amd|advanced micro/i.test(c.vendor ?? ""))
      .forEach((c, i) => {
        facts.gpus.push({
          index: i,
          vendor: /nvidia/i.test(c.vendor) ? "nvidia" : "amd",
          model: c.model,
          uuid: null,
          pciBusId: c.busAddress || null,
          memoryMiB: c.vram ?? null,
          migMode: null,
          migDevices: [],
          source: "lspci",
        });
      });
  }
  return facts;
}
