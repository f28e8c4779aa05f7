// `ibstat` → one RdmaPortFacts per (CA, port); used when ibv_devinfo is missing.
import type { RdmaPortFacts } from "../facts.js";
import { normaliseLinkLayer } from "./ibvDevinfo.js";
import { lines, normaliseGuid, normaliseState, parseRateGbps, safely, toInt, type Parsed } from "./util.js";

/**
 * "CA 'mlx5_0'" starts a device, "Port 1:" a port; "Rate: 200" is already Gb/s. A Down port prints the port's default
 * rate (10, 40), not a link speed, so its rate is null as with ibv_devinfo. An "ibpanic:" line means ibstat stopped
 * early (real captures end like that): the ports read so far are kept and a warning says the list may be incomplete.
 */
export function parseIbstat(text: string): Parsed<RdmaPortFacts[]> {
  return safely("ibstat.txt", [], (sink) => {
    const out: RdmaPortFacts[] = [];
    let device: string | null = null;
    let fw: string | null = null;
    let guid: string | null = null;
    let port: Record<string, string> | null = null;
    let portNo: number | null = null;
    const flush = (): void => {
      if (device !== null && port !== null && portNo !== null) {
        const state = normaliseState(port.State);
        out.push({
          device,
          port: portNo,
          linkLayer: normaliseLinkLayer(port["Link layer"]),
          state,
          rateGbps: state === "DOWN" ? null : parseRateGbps(port.Rate),
          firmware: fw,
          nodeGuid: guid,
          netdev: null,
        });
      }
      port = null;
      portNo = null;
    };
    for (const line of lines(text)) {
      if (/^\s*ibpanic:/.test(line)) {
        flush();
        device = null;
        sink.add(`ibstat stopped early, the port list may be incomplete: ${line.trim().slice(0, 160)}`);
        continue;
      }
      const ca = /^\s*CA\s+'([^']+)'/.exec(line);
      if (ca) {
        flush();
        device = ca[1] ?? null;
        fw = null;
        guid = null;
        continue;
      }
      const p = /^\s*Port\s+(\d+):\s*$/.exec(line);
      if (p) {
        flush();
        portNo = toInt(p[1]);
        port = {};
        continue;
      }
      const kv = /^\s*([A-Za-z][A-Za-z ]*?):\s*(.*?)\s*$/.exec(line);
      if (!kv || kv[1] === undefined || kv[2] === undefined) continue;
      if (port !== null) port[kv[1]] = kv[2];
      else if (kv[1] === "Firmware version") fw = kv[2] || null;
      else if (kv[1] === "Node GUID") guid = normaliseGuid(kv[2]);
    }
    flush();
    if (out.length === 0 && text.trim() !== "") sink.add("no CA / Port entries found");
    return out;
  });
}
