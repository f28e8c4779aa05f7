// The fixed, read-only command set the probe runs on each host, and the capture file each one fills.
// Names are a public contract (docs/probe.md): support staff hand-collect files under these names.

/** One probe command: `command` is POSIX sh run as-is on the host; it must never change the host. */
export interface CaptureSpec {
  name: string;
  command: string;
  /** The tool whose absence makes this capture a fact ("no GPU tools"), not an error. */
  tool: string | null;
  why: string;
  /** Runs under `timeout` because it talks to a driver, daemon or device and can hang; plain reads of /proc and /etc do not. */
  mayHang?: boolean;
  /** Runs only when the capture just before it failed (e.g. `nvidia-smi -q` text when `-q -x` does not work). */
  fallback?: boolean;
  /** stderr of a failure that means "this subsystem is absent here" (a fact), not a broken host. */
  absentWhen?: RegExp;
}

export const CAPTURES: readonly CaptureSpec[] = [
  { name: "hostname.txt", command: "cat /proc/sys/kernel/hostname", tool: null, why: "node name" },
  { name: "os-release", command: "cat /etc/os-release || cat /usr/lib/os-release", tool: null, why: "OS family and version" },
  { name: "uname.txt", command: "uname -srm", tool: "uname", why: "kernel release and architecture" },
  { name: "cpuinfo.txt", command: "cat /proc/cpuinfo", tool: null, why: "CPU model, sockets, cores, threads, flags" },
  { name: "meminfo.txt", command: "cat /proc/meminfo", tool: null, why: "memory and swap totals" },
  {
    name: "lsblk.json",
    mayHang: true,
    command:
      "lsblk -J -b -O 2>/dev/null || lsblk -J -b -o NAME,KNAME,PATH,SIZE,ROTA,TRAN,TYPE,MODEL,SERIAL,FSTYPE,MOUNTPOINT",
    tool: "lsblk",
    why: "disks for the LVM-backed local storage and the Alluxio cache",
  },
  { name: "ip-addr.json", mayHang: true, command: "ip -j addr", tool: "ip", why: "NICs and addresses" },
  {
    name: "net-speed.txt",
    command:
      "for d in /sys/class/net/*; do [ -e \"$d\" ] || continue; s=-; read -r s 2>/dev/null < \"$d/speed\" || s=-; printf '%s %s\\n' \"${d##*/}\" \"$s\"; done",
    tool: null,
    why: "NIC link speeds",
  },
  { name: "lspci.txt", mayHang: true, command: "lspci -Dnn", tool: "lspci", why: "GPUs and HCAs when vendor tools are missing" },
  { name: "nvidia-smi-q-x.xml", mayHang: true, command: "nvidia-smi -q -x", tool: "nvidia-smi", why: "GPU model, memory, MIG, driver and CUDA" },
  { name: "nvidia-smi-q.txt", mayHang: true, fallback: true, command: "nvidia-smi -q", tool: "nvidia-smi", why: "GPU facts when the XML form fails (some drivers and vGPU guests)" },
  { name: "nvidia-version.txt", command: "cat /proc/driver/nvidia/version", tool: null, why: "loaded NVIDIA kernel module version", absentWhen: /No such file or directory/ },
  {
    name: "nvcc-version.txt",
    mayHang: true,
    command: "if command -v nvcc >/dev/null 2>&1; then nvcc --version; elif [ -x /usr/local/cuda/bin/nvcc ]; then /usr/local/cuda/bin/nvcc --version; else exit 127; fi",
    tool: null,
    why: "installed CUDA toolkit",
  },
  { name: "ibv_devinfo.txt", mayHang: true, command: "ibv_devinfo -v", tool: "ibv_devinfo", why: "RDMA devices and ports", absentWhen: /No IB devices found|Failed to get IB devices list/ },
  { name: "ibstat.txt", mayHang: true, command: "ibstat", tool: "ibstat", why: "RDMA ports when ibv_devinfo is missing", absentWhen: /No IB devices|couldn't load|umad/i },
  { name: "ibdev2netdev.txt", mayHang: true, command: "ibdev2netdev", tool: "ibdev2netdev", why: "RDMA port to netdev mapping" },
  { name: "rdma-link.txt", mayHang: true, command: "rdma link show", tool: "rdma", why: "RDMA link state and netdev (iproute2)", absentWhen: /NETLINK_RDMA|Operation not supported|Protocol not supported/ },
  { name: "ofed_info.txt", mayHang: true, command: "ofed_info -s", tool: "ofed_info", why: "MLNX_OFED / DOCA-OFED version" },
  { name: "swaps.txt", command: "cat /proc/swaps", tool: null, why: "swap must be off for the kubelet" },
  { name: "timedatectl.txt", mayHang: true, command: "timedatectl show", tool: "timedatectl", why: "clock synchronisation", absentWhen: /Failed to connect to bus|not been booted with systemd|Failed to create bus connection/ },
  { name: "chronyc-tracking.txt", mayHang: true, command: "chronyc -n tracking", tool: "chronyc", why: "clock synchronisation without systemd", absentWhen: /Cannot talk to daemon|506 Cannot talk/ },
  {
    name: "container-runtimes.txt",
    command: "for t in containerd dockerd docker crio podman runc kubelet; do p=$(command -v $t 2>/dev/null) && printf '%s %s\\n' \"$t\" \"$p\"; done; true",
    tool: null,
    why: "container runtimes already present",
  },
  { name: "df-var.txt", mayHang: true, command: "df -P -B1 /var", tool: "df", why: "free space for images and etcd" },
  { name: "modules.txt", command: "cat /proc/modules", tool: null, why: "loaded kernel modules (br_netfilter, overlay, nvidia, ib_core)" },
  { name: "ss-listen.txt", mayHang: true, command: "ss -H -lntu", tool: "ss", why: "ports that Kubernetes and the services need" },
  { name: "cgroup-fs.txt", command: "stat -f -c %T /sys/fs/cgroup", tool: null, why: "cgroup v1 or v2 (the kubelet's failCgroupV1 setting)" },
  { name: "capabilities.txt", command: "grep -E '^Cap(Eff|Bnd):' /proc/self/status", tool: null, why: "CAP_SYS_RESOURCE (containerd's restrict_oom_score_adj)" },
];

/** Capture names accepted by `--from-capture` besides the ones the probe writes itself. */
export const ALTERNATIVE_CAPTURES: readonly string[] = ["nvidia-smi-query.csv", "lsblk.txt"];

/** Seconds one probe command may run before it is killed on the host. */
export const DEFAULT_COMMAND_TIMEOUT_SEC = 15;
