// Pure: RDMA ports with their state, link layer and netdevs — from a read-only sysfs listing (the kernel's own view),
// or, where sysfs shows no RDMA class, from the tools the probe reads (ibdev2netdev, rdma link, ibstat) — and the
// verdict on the port that carries the plan's RDMA interface.
import type { RdmaPortFacts } from "../../probe/facts.js";
import { normaliseLinkLayer } from "../../probe/parse/ibvDevinfo.js";
import type { RdmaNetdev } from "../../probe/parse/ibdev2netdev.js";
import { normaliseState } from "../../probe/parse/util.js";
import type { DeviceProblem } from "./problems.js";

/** One RDMA port as the check sees it. */
export interface RdmaPort {
  device: string;
  port: number;
  /** Upper-case state word: ACTIVE, DOWN, INIT, ARMED… (null when unreadable). */
  state: string | null;
  linkLayer: "InfiniBand" | "Ethernet" | null;
  netdevs: string[];
  source: "sysfs" | "tools";
}

/**
 * Prints one tab-separated line per port (`port DEV N STATE LINK_LAYER NDEV0`) and per netdev bound to an RDMA device
 * (`netdev IF DEV DEV_PORT DEV_ID`: IPoIB interfaces; RoCE netdevs appear as the port's gid_attrs/ndevs/0). Reads only.
 */
export const SYSFS_SCRIPT = [
  "for p in /sys/class/infiniband/*/ports/*; do",
  '  [ -d "$p" ] || continue',
  '  d=${p#/sys/class/infiniband/}; d=${d%%/*}',
  `  printf 'port\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$d" "\${p##*/}" "$(cat "$p/state" 2>/dev/null)" "$(cat "$p/link_layer" 2>/dev/null)" "$(cat "$p/gid_attrs/ndevs/0" 2>/dev/null)"`,
  "done",
  "for n in /sys/class/net/*; do",
  '  for d in "$n"/device/infiniband/*; do',
  '    [ -d "$d" ] || continue',
  `    printf 'netdev\\t%s\\t%s\\t%s\\t%s\\n' "\${n##*/}" "\${d##*/}" "$(cat "$n/dev_port" 2>/dev/null)" "$(cat "$n/dev_id" 2>/dev/null)"`,
  "  done",
  "done",
  "true",
].join("\n");

/** SYSFS_SCRIPT's output → ports; an IPoIB netdev joins port dev_port+1 (dev_id+1 on kernels without dev_port), as ibdev2netdev does. */
export function parseSysfsPorts(text: string): RdmaPort[] {
  const ports: RdmaPort[] = [];
  const bound: { netdev: string; device: string; port: number }[] = [];
  for (const line of text.split("\n")) {
    const f = line.split("\t");
    if (f[0] === "port" && f.length >= 6) {
      const port = Number(f[2]);
      if (!Number.isInteger(port)) continue;
      const state = normaliseState(f[3]); // "4: ACTIVE" → ACTIVE
      const ndev = (f[5] ?? "").trim();
      ports.push({ device: f[1]!, port, state, linkLayer: normaliseLinkLayer((f[4] ?? "").trim()), netdevs: ndev ? [ndev] : [], source: "sysfs" });
    } else if (f[0] === "netdev" && f.length >= 5) {
      const devPort = /^\d+$/.test((f[3] ?? "").trim()) ? Number(f[3]) : null;
      const devId = /^0x[0-9a-f]+$/i.test((f[4] ?? "").trim()) ? parseInt(f[4]!, 16) : null;
      bound.push({ netdev: f[1]!, device: f[2]!, port: (devPort ?? devId ?? 0) + 1 });
    }
  }
  for (const b of bound) {
    const p = ports.find((x) => x.device === b.device && x.port === b.port);
    if (p && !p.netdevs.includes(b.netdev)) p.netdevs.push(b.netdev);
  }
  return ports;
}

/** Ports from the tools: state and link layer from the first source that has them (ibv_devinfo, ibstat, `rdma link`), netdevs from ibdev2netdev and `rdma link`. */
export function portsFromTools(sources: readonly (readonly RdmaPortFacts[])[], ibdev2netdev: readonly RdmaNetdev[]): RdmaPort[] {
  const ports = new Map<string, RdmaPort>();
  const key = (d: string, p: number) => `${d}/${p}`;
  for (const f of sources.flat()) {
    const k = key(f.device, f.port);
    const p = ports.get(k);
    if (!p) ports.set(k, { device: f.device, port: f.port, state: f.state, linkLayer: f.linkLayer, netdevs: f.netdev ? [f.netdev] : [], source: "tools" });
    else {
      p.state ??= f.state;
      p.linkLayer ??= f.linkLayer;
      if (f.netdev && !p.netdevs.includes(f.netdev)) p.netdevs.push(f.netdev);
    }
  }
  for (const m of ibdev2netdev) {
    const p = ports.get(key(m.device, m.port));
    if (p && !p.netdevs.includes(m.netdev)) p.netdevs.push(m.netdev);
    else if (!p) ports.set(key(m.device, m.port), { device: m.device, port: m.port, state: m.up === null ? null : m.up ? "ACTIVE" : "DOWN", linkLayer: null, netdevs: [m.netdev], source: "tools" });
  }
  return [...ports.values()];
}

/** The verdict for the plan's interface: it must be a netdev of an ACTIVE port with the planned link layer. */
export function rdmaProblems(host: string, iface: string, plannedLayer: RdmaPort["linkLayer"], ports: readonly RdmaPort[]): DeviceProblem[] {
  if (ports.length === 0) {
    return [{ code: "E_RDMA_PORT_MISSING", message: `${host}: the plan sends RDMA traffic over ${iface}, but the host shows no RDMA device (/sys/class/infiniband is empty or absent, and no RDMA tool lists a port)`, remedy: "load the RDMA drivers (modprobe mlx5_ib, and ib_ipoib for InfiniBand) or install MLNX_OFED/DOCA-OFED, then run the install again" }];
  }
  const port = ports.find((p) => p.netdevs.includes(iface));
  if (!port) {
    const seen = ports.map((p) => `${p.device}/${p.port}${p.netdevs.length ? ` (${p.netdevs.join(", ")})` : " (no netdev)"}`).join(", ");
    return [{ code: "E_RDMA_PORT_MISSING", message: `${host}: the plan sends RDMA traffic over ${iface}, but no RDMA port carries that interface; ports: ${seen}`, remedy: "bring up the IPoIB/RoCE interface the plan names (ib_ipoib for InfiniBand), or probe again and make a new plan" }];
  }
  const out: DeviceProblem[] = [];
  const where = `${port.device} port ${port.port} (${iface})`;
  if (port.state !== "ACTIVE") {
    out.push({ code: "E_RDMA_PORT_DOWN", message: `${host}: ${where} must be ACTIVE; it is ${port.state ?? "in an unreadable state"}`, remedy: port.linkLayer === "Ethernet" ? "bring the netdev up (ip link set IF up) and check the cable and switch port" : "check the cable (ibstat: Physical state LinkUp) and that a subnet manager runs on the fabric (opensm); INIT means no subnet manager has configured the port yet" });
  }
  if (plannedLayer && port.linkLayer && port.linkLayer !== plannedLayer) {
    out.push({ code: "E_RDMA_LINK_LAYER", message: `${host}: ${where} must have link layer ${plannedLayer} as planned; it has ${port.linkLayer}`, remedy: "set the port type back (mlxconfig -d DEV set LINK_TYPE_P1=…, then reboot), or probe again and make a new plan" });
  }
  return out;
}
