// HostFacts: the read-only picture of one host that preflight and the planner consume.
// Field names are a public contract (docs/probe.md, `omstack probe --output json`); extend, never rename.

/** Operating system identity as /etc/os-release writes it (id is kept verbatim, e.g. "openEuler"). */
export interface OsFacts {
  id: string;
  versionId: string | null;
  prettyName: string | null;
  idLike: string[];
}

export interface CpuFacts {
  model: string | null;
  sockets: number | null;
  cores: number | null;
  threads: number | null;
  flags: string[];
}

export interface MemoryFacts {
  totalBytes: number;
  availableBytes: number | null;
}

export interface MigDevice {
  memoryMiB: number | null;
  profile: string | null;
  uuid: string | null;
}

/** One GPU; model exactly as the tool printed it, so support staff can match it to vendor docs. */
export interface GpuFacts {
  index: number;
  vendor: "nvidia" | "amd" | "other";
  model: string;
  uuid: string | null;
  pciBusId: string | null;
  memoryMiB: number | null;
  migMode: "enabled" | "disabled" | null;
  migDevices: MigDevice[];
  source: "nvidia-smi" | "lspci";
}

export interface GpuDriverFacts {
  version: string;
  cudaVersion: string | null;
}

/** One RDMA (device, port); state normalised to upper-case words ("ACTIVE", "DOWN", ...). */
export interface RdmaPortFacts {
  device: string;
  port: number;
  linkLayer: "InfiniBand" | "Ethernet" | null;
  state: string | null;
  rateGbps: number | null;
  firmware: string | null;
  nodeGuid: string | null;
  netdev: string | null;
}

export interface DiskFacts {
  name: string;
  sizeBytes: number | null;
  rotational: boolean | null;
  transport: string | null;
  type: string;
  model: string | null;
  fstype: string | null;
  mountpoints: string[];
  children: DiskFacts[];
}

export interface NicFacts {
  name: string;
  mac: string | null;
  addresses: string[];
  state: string | null;
  mtu: number | null;
  speedMbps: number | null;
  rdmaDevice: string | null;
}

/** What preflight needs beyond hardware: swap, time sync, runtimes, /var space, modules, ports. */
export interface SystemFacts {
  swapBytes: number | null;
  timeSynchronized: boolean | null;
  ntpService: string | null;
  containerRuntimes: string[];
  varFreeBytes: number | null;
  kernelModules: string[];
  listeningPorts: { proto: "tcp" | "udp"; address: string; port: number }[];
  /** 1 (cgroup v1 or hybrid) or 2 (unified): Kubernetes ≥ 1.35 refuses v1 unless the kubelet is told otherwise. Absent in older captures. */
  cgroupVersion?: 1 | 2 | null;
  /** Whether root on the host holds CAP_SYS_RESOURCE (not in some containers): containerd must then not lower oom_score_adj. */
  capSysResource?: boolean | null;
}

/** A non-fatal problem met while reading a capture: the facts that could be read are still returned. */
export interface ProbeWarning {
  capture: string;
  message: string;
}

export interface HostFacts {
  host: string;
  reachable: boolean;
  error: string | null;
  errorCode: string | null;
  os: OsFacts | null;
  kernel: string | null;
  arch: string | null;
  cpu: CpuFacts | null;
  memory: MemoryFacts | null;
  gpus: GpuFacts[];
  gpuDriver: GpuDriverFacts | null;
  cudaToolkit: { version: string } | null;
  rdma: RdmaPortFacts[];
  ofed: { version: string } | null;
  disks: DiskFacts[];
  nics: NicFacts[];
  system: SystemFacts;
  warnings: ProbeWarning[];
  /** Captures whose tool is absent on the host (a fact: a CPU node has no nvidia-smi). */
  missingTools: string[];
  probedAt: string | null;
  durationMs: number | null;
}

/** Raw captures of one host: capture file name → file content (any subset may be present). */
export type Captures = ReadonlyMap<string, string>;

/** Facts of a host that could not be reached: every hardware field empty, the reason kept. */
export function unreachableFacts(host: string, error: string, errorCode: string | null): HostFacts {
  return {
    ...emptyFacts(host),
    reachable: false,
    error,
    errorCode,
  };
}

/** A blank HostFacts that parsers fill in. */
export function emptyFacts(host: string): HostFacts {
  return {
    host,
    reachable: true,
    error: null,
    errorCode: null,
    os: null,
    kernel: null,
    arch: null,
    cpu: null,
    memory: null,
    gpus: [],
    gpuDriver: null,
    cudaToolkit: null,
    rdma: [],
    ofed: null,
    disks: [],
    nics: [],
    system: {
      swapBytes: null,
      timeSynchronized: null,
      ntpService: null,
      containerRuntimes: [],
      varFreeBytes: null,
      kernelModules: [],
      listeningPorts: [],
      cgroupVersion: null,
      capSysResource: null,
    },
    warnings: [],
    missingTools: [],
    probedAt: null,
    durationMs: null,
  };
}
