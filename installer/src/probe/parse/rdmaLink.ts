// `rdma link show` (iproute2) → port state and netdev; the last RDMA fallback.
import type { RdmaPortFacts } from "../facts.js";
import { lines, normaliseState, safely, toInt, type Parsed } from "./util.js";

/** "link mlx5_0/1 state ACTIVE physical_state LINK_UP netdev ib0"; link layer is guessed from the netdev name. */
export function parseRdmaLink(text: string): Parsed<RdmaPortFacts[]> {
  return safely("rdma-link.txt", [], (sink) => {
    const out: RdmaPortFacts[] = [];
    for (const line of lines(text)) {
      if (line.trim() === "") continue;
      const m = /^\s*link\s+([^/\s]+)\/(\d+)\s*(.*)$/.exec(line);
      const port = toInt(m?.[2]);
      if (!m || m[1] === undefined || port === null) {
        sink.add(`unreadable line "${line.slice(0, 80)}"`);
        continue;
      }
      const words = (m[3] ?? "").trim().split(/\s+/);
      const kv = new Map<string, string>();
      for (let i = 0; i + 1 < words.length; i += 2) {
        const k = words[i];
        const v = words[i + 1];
        if (k !== undefined && v !== undefined) kv.set(k, v);
      }
      const netdev = kv.get("netdev") ?? null;
      out.push({
        device: m[1],
        port,
        // rdma link prints no link layer; IPoIB netdevs are named ib*, RoCE ports carry an Ethernet netdev.
        linkLayer: netdev === null ? null : /^ib/.test(netdev) ? "InfiniBand" : "Ethernet",
        state: normaliseState(kv.get("state")),
        rateGbps: null,
        firmware: null,
        nodeGuid: null,
        netdev,
      });
    }
    return out;
  });
}
