// `ibv_devinfo` (with or without -v) → one RdmaPortFacts per (device, port).
import type { RdmaPortFacts } from "../facts.js";
import { lines, normaliseGuid, normaliseState, safely, toFloat, toInt, type Parsed } from "./util.js";

/** Link layer as HostFacts spells it. */
export function normaliseLinkLayer(v: string | null | undefined): RdmaPortFacts["linkLayer"] {
  if (!v) return null;
  if (/^infiniband$/i.test(v.trim())) return "InfiniBand";
  if (/^ethernet$/i.test(v.trim())) return "Ethernet";
  return null;
}

/** Rate = lanes × per-lane speed: "4X (2)" × "50.0 Gbps (64)" → 200. */
export function rateFromWidthSpeed(width: string | undefined, speed: string | undefined): number | null {
  const lanes = toInt(width?.replace(/x.*$/i, ""));
  const perLane = toFloat(speed);
  if (lanes === null || perLane === null || lanes <= 0 || perLane <= 0 || !/gbps/i.test(speed ?? "")) return null;
  return Math.round(lanes * perLane * 10) / 10;
}

/** Each "hca_id:" starts a device, each "port:" a port; keys are read as "key: value" at any indentation. */
export function parseIbvDevinfo(text: string): Parsed<RdmaPortFacts[]> {
  return safely("ibv_devinfo.txt", [], (sink) => {
    const out: RdmaPortFacts[] = [];
    let device: string | null = null;
    let fw: string | null = null;
    let guid: string | null = null;
    let port: Record<string, string> | null = null;
    let portNo: number | null = null;
    const flush = (): void => {
      if (device !== null && port !== null && portNo !== null) {
        out.push({
          device,
          port: portNo,
          linkLayer: normaliseLinkLayer(port.link_layer),
          state: normaliseState(port.state),
          rateGbps: rateFromWidthSpeed(port.active_width, port.active_speed),
          firmware: fw,
          nodeGuid: guid,
          netdev: null,
        });
      }
      port = null;
      portNo = null;
    };
    for (const line of lines(text)) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_ ]*?):\s*(.*?)\s*$/.exec(line);
      if (!m || m[1] === undefined || m[2] === undefined) continue;
      const key = m[1];
      const value = m[2];
      if (key === "hca_id") {
        flush();
        device = value || null;
        fw = null;
        guid = null;
      } else if (key === "port") {
        flush();
        portNo = toInt(value);
        port = {};
        if (portNo === null) sink.add(`port "${value}" of ${device ?? "?"} is not a number`);
      } else if (port !== null) {
        if (!(key in port)) port[key] = value;
      } else if (key === "fw_ver") fw = value || null;
      else if (key === "node_guid") guid = normaliseGuid(value);
    }
    flush();
    if (out.length === 0 && text.trim() !== "" && !/No IB devices found/i.test(text)) sink.add("no hca_id / port entries found");
    return out;
  });
}
