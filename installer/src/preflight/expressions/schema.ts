// The HostFacts shape as expression types, so `gpu.count()` or `memory.total` fail at load time with a suggestion.
import { ANY, BOOL, NUMBER, STRING, listOf, obj, type Ty } from "./types.js";

const os = obj("os", { id: STRING, versionId: STRING, prettyName: STRING, idLike: listOf(STRING) });
const cpu = obj("cpu", { model: STRING, sockets: NUMBER, cores: NUMBER, threads: NUMBER, flags: listOf(STRING) });
const memory = obj("memory", { totalBytes: NUMBER, availableBytes: NUMBER });
const migDevice = obj("MIG device", { memoryMiB: NUMBER, profile: STRING, uuid: STRING });
const gpu = obj("GPU", {
  index: NUMBER,
  vendor: STRING,
  model: STRING,
  uuid: STRING,
  pciBusId: STRING,
  memoryMiB: NUMBER,
  migMode: STRING,
  migDevices: listOf(migDevice),
  source: STRING,
});
const gpuDriver = obj("gpuDriver", { version: STRING, cudaVersion: STRING });
const rdmaPort = obj("RDMA port", {
  device: STRING,
  port: NUMBER,
  linkLayer: STRING,
  state: STRING,
  rateGbps: NUMBER,
  firmware: STRING,
  nodeGuid: STRING,
  netdev: STRING,
});
const diskFields: Record<string, Ty> = {
  name: STRING,
  sizeBytes: NUMBER,
  rotational: BOOL,
  transport: STRING,
  type: STRING,
  model: STRING,
  fstype: STRING,
  mountpoints: listOf(STRING),
};
// Children are disks again; one level of typing is enough, deeper levels are `any`.
const partition = obj("partition", { ...diskFields, children: listOf(ANY) });
const disk = obj("disk", { ...diskFields, children: listOf(partition) });
const nic = obj("NIC", {
  name: STRING,
  mac: STRING,
  addresses: listOf(STRING),
  state: STRING,
  mtu: NUMBER,
  speedMbps: NUMBER,
  rdmaDevice: STRING,
});
const port = obj("listening port", { proto: STRING, address: STRING, port: NUMBER });
const system = obj("system", {
  swapBytes: NUMBER,
  timeSynchronized: BOOL,
  ntpService: STRING,
  containerRuntimes: listOf(STRING),
  varFreeBytes: NUMBER,
  kernelModules: listOf(STRING),
  listeningPorts: listOf(port),
});

/** Field types of HostFacts (installer/src/probe/facts.ts); extend together with that file. */
export const HOST_FACTS_FIELDS: Readonly<Record<string, Ty>> = {
  host: STRING,
  hostname: STRING,
  reachable: BOOL,
  error: STRING,
  errorCode: STRING,
  os,
  kernel: STRING,
  arch: STRING,
  cpu,
  memory,
  gpus: listOf(gpu),
  gpuDriver,
  cudaToolkit: obj("cudaToolkit", { version: STRING }),
  rdma: listOf(rdmaPort),
  ofed: obj("ofed", { version: STRING }),
  disks: listOf(disk),
  nics: listOf(nic),
  system,
  warnings: listOf(obj("warning", { capture: STRING, message: STRING })),
  probedAt: STRING,
  durationMs: NUMBER,
};

/** HostFacts as one object type (used for `cluster.hosts` elements). */
export const HOST_FACTS_TYPE: Ty = obj("host", HOST_FACTS_FIELDS);
