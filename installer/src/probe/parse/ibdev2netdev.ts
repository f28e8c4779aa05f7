// `ibdev2netdev` ("mlx5_0 port 1 ==> ib0 (Up)") → RDMA port to netdev mapping.
import { lines, safely, toInt, type Parsed } from "./util.js";

export interface RdmaNetdev {
  device: string;
  port: number;
  netdev: string;
  up: boolean | null;
}

/** Tolerates `| column -t` spacing; "==> " without a netdev (no IPoIB) yields nothing. */
export function parseIbdev2netdev(text: string): Parsed<RdmaNetdev[]> {
  return safely("ibdev2netdev.txt", [], (sink) => {
    const out: RdmaNetdev[] = [];
    for (const line of lines(text)) {
      if (line.trim() === "") continue;
      const m = /^\s*(\S+)\s+port\s+(\d+)\s+==>\s+(\S+)(?:\s+\((\w+)\))?/.exec(line);
      const port = toInt(m?.[2]);
      if (!m || m[1] === undefined || m[3] === undefined || port === null) {
        sink.add(`unreadable line "${line.slice(0, 80)}"`);
        continue;
      }
      const up = m[4] === undefined ? null : m[4].toLowerCase() === "up";
      out.push({ device: m[1], port, netdev: m[3], up });
    }
    return out;
  });
}
