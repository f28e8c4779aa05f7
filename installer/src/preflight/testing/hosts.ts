// HostFacts builders for preflight and planner tests: a blank host plus the parts a scenario needs.
import { emptyFacts, type GpuFacts, type HostFacts, type RdmaPortFacts } from "../../probe/facts.js";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object | null ? DeepPartial<NonNullable<T[K]>> | null : T[K] };

/** A reachable Ubuntu 22.04 host with 32 cores, 128 GiB, no swap, synced clock, and the given overrides. */
export function host(name: string, over: DeepPartial<HostFacts> = {}): HostFacts {
  const base = emptyFacts(name);
  const h: HostFacts = {
    ...base,
    os: { id: "ubuntu", versionId: "22.04", prettyName: "Ubuntu 22.04.4 LTS", idLike: ["debian"] },
    kernel: "5.15.0-105-generic",
    arch: "x86_64",
    cpu: { model: "Intel(R) Xeon(R) Gold 6330 CPU @ 2.00GHz", sockets: 2, cores: 56, threads: 112, flags: ["avx2", "avx512f"] },
    memory: { totalBytes: 512 * 2 ** 30, availableBytes: 480 * 2 ** 30 },
    system: {
      swapBytes: 0,
      timeSynchronized: true,
      ntpService: "chronyd",
      containerRuntimes: [],
      varFreeBytes: 800 * 2 ** 30,
      kernelModules: ["br_netfilter", "overlay"],
      listeningPorts: [{ proto: "tcp", address: "0.0.0.0", port: 22 }],
    },
  };
  return merge(h, over) as HostFacts;
}

function merge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (b === null || typeof b !== "object" || Array.isArray(b) || a === null || typeof a !== "object" || Array.isArray(a)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge((a as Record<string, unknown>)[k], v);
  return out;
}

/** An NVIDIA data-centre GPU as nvidia-smi reports it. */
export function gpu(index: number, model = "NVIDIA A100-SXM4-80GB", memoryMiB = 81920, migMode: "enabled" | "disabled" | null = "disabled"): GpuFacts {
  return { index, vendor: "nvidia", model, uuid: null, pciBusId: null, memoryMiB, migMode, migDevices: [], source: "nvidia-smi" };
}

/** A ConnectX port. */
export function port(device: string, linkLayer: "InfiniBand" | "Ethernet", state = "ACTIVE", rateGbps = 200): RdmaPortFacts {
  return { device, port: 1, linkLayer, state, rateGbps, firmware: "20.39.1002", nodeGuid: null, netdev: linkLayer === "Ethernet" ? "ens1f0np0" : "ibp1s0" };
}
