// Cluster state for tests and the console demo; hardware values are copied from real tool output (see SOURCE.md).
import { emptyFacts, type HostFacts, type RdmaPortFacts } from "../../probe/facts.js";
import type { ClusterSnapshot } from "../ports.js";

const port = (device: string, state: string, rateGbps: number | null, linkLayer: "Ethernet" | "InfiniBand", firmware: string, nodeGuid: string): RdmaPortFacts => ({ device, port: 1, linkLayer, state, rateGbps, firmware, nodeGuid, netdev: null });

/** gpu-01: two NVIDIA B200 (sglang#27487), ConnectX ports from Mooncake#1999 ibstat, an NVMe from beszel#1899 smartctl. */
function gpu01(): HostFacts {
  const f = emptyFacts("gpu-01");
  f.os = { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)", idLike: [] };
  f.gpus = [
    { index: 0, vendor: "nvidia", model: "NVIDIA B200", uuid: null, pciBusId: "00000000:63:00.0", memoryMiB: 183359, migMode: "disabled", migDevices: [], source: "nvidia-smi" },
    { index: 1, vendor: "nvidia", model: "NVIDIA B200", uuid: null, pciBusId: "00000000:68:00.0", memoryMiB: 183359, migMode: "disabled", migDevices: [], source: "nvidia-smi" },
  ];
  f.gpuDriver = { version: "610.43.02", cudaVersion: "13.3" };
  f.rdma = [
    port("mlx5_0", "ACTIVE", 200, "Ethernet", "28.39.1002", "0x58a2e10300dae626"),
    port("mlx5_1", "ACTIVE", 200, "Ethernet", "28.39.1002", "0x58a2e10300dae627"),
    port("mlx5_10", "DOWN", null, "InfiniBand", "22.31.1014", "0xb83fd203002d6502"),
  ];
  f.disks = [{ name: "nvme1n1", sizeBytes: 7681501126656, rotational: false, transport: "nvme", type: "disk", model: "Dell Ent NVMe CM7 U.2 RI 7.68TB", fstype: null, mountpoints: [], children: [] }];
  return f;
}

/** gpu-02: two Quadro RTX 4000 (akash-network/provider-configs#12), ConnectX-6 Dx ports from NVIDIA/l2fwd-nv#6 ibstat. */
function gpu02(): HostFacts {
  const f = emptyFacts("gpu-02");
  f.os = { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)", idLike: [] };
  f.gpus = [
    { index: 0, vendor: "nvidia", model: "Quadro RTX 4000", uuid: "GPU-c7b57be0-94ff-d352-a59b-d0ee00aeed43", pciBusId: "00000000:06:00.0", memoryMiB: 8192, migMode: null, migDevices: [], source: "nvidia-smi" },
    { index: 1, vendor: "nvidia", model: "Quadro RTX 4000", uuid: "GPU-d6de6afc-bdfe-75c4-5273-0544439153fc", pciBusId: "00000000:07:00.0", memoryMiB: 8192, migMode: null, migDevices: [], source: "nvidia-smi" },
  ];
  f.gpuDriver = { version: "535.129.03", cudaVersion: "12.2" };
  f.rdma = [port("mlx5_0", "ACTIVE", 100, "Ethernet", "22.32.2004", "0x0c42a103001dd12a"), port("mlx5_1", "ACTIVE", 100, "Ethernet", "22.32.2004", "0x0c42a103001dd12b")];
  return f;
}

function cp01(): HostFacts {
  const f = emptyFacts("cp-01");
  f.os = { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)", idLike: [] };
  return f;
}

/** A three-node cluster with one RDMA port down and one certificate near expiry, so every light colour appears. */
export function demoSnapshot(now: Date): ClusterSnapshot {
  const days = (n: number) => new Date(now.getTime() + n * 86_400_000).toISOString();
  const g1 = gpu01();
  return {
    nodes: [
      { name: "cp-01", roles: ["control-plane"], ready: true, kubeletVersion: "v1.34.2" },
      { name: "gpu-01", roles: ["worker", "gpu"], ready: true, kubeletVersion: "v1.34.2" },
      { name: "gpu-02", roles: ["worker", "gpu"], ready: true, kubeletVersion: "v1.34.2" },
    ],
    systemPods: [
      { namespace: "kube-system", name: "etcd-cp-01", node: "cp-01", phase: "Running", ready: true, restarts: 0 },
      { namespace: "kube-system", name: "kube-apiserver-cp-01", node: "cp-01", phase: "Running", ready: true, restarts: 0 },
      { namespace: "gpu-operator", name: "nvidia-device-plugin-gpu-01", node: "gpu-01", phase: "Running", ready: true, restarts: 1 },
    ],
    services: [
      { name: "jupyterhub", version: "4.1.6", status: "healthy", uiPath: "/jupyter/", checks: [{ name: "hub API", ok: true, detail: "200 OK" }] },
      { name: "minio", version: "RELEASE.2025-04-22T22-12-26Z", status: "healthy", uiPath: "/minio/", checks: [{ name: "liveness", ok: true, detail: "200 OK" }] },
      { name: "spark-operator", version: "2.1.1", status: "degraded", uiPath: null, checks: [{ name: "webhook", ok: false, detail: "1 of 2 replicas ready" }] },
    ],
    certificates: [
      { name: "apiserver", notAfter: days(340) },
      { name: "admin-console", notAfter: days(21) },
    ],
    etcd: [{ name: "cp-01", healthy: true, dbSizeBytes: 24_576_000 }],
    components: { platform: "1.0.0", kubernetes: "1.34.2", "gpu-operator": "25.3.0", jupyterhub: "4.1.6", minio: "RELEASE.2025-04-22T22-12-26Z" },
    facts: [cp01(), g1, gpu02()],
  };
}
