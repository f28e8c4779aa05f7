// `ip -j addr` → NICs with MAC, addresses (CIDR), state and MTU.
import type { NicFacts } from "../facts.js";
import { safely, toInt, type Parsed } from "./util.js";

/** One NicFacts per interface object; speed and RDMA device are filled in later by the merger. */
export function parseIpAddr(text: string): Parsed<NicFacts[]> {
  return safely("ip-addr.json", [], (sink) => {
    const data: unknown = JSON.parse(text);
    if (!Array.isArray(data)) {
      sink.add("expected a JSON array of interfaces");
      return [];
    }
    const out: NicFacts[] = [];
    for (const item of data) {
      if (typeof item !== "object" || item === null) continue;
      const o = item as Record<string, unknown>;
      if (typeof o.ifname !== "string") {
        sink.add("an interface without ifname was skipped");
        continue;
      }
      const addresses: string[] = [];
      if (Array.isArray(o.addr_info)) {
        for (const a of o.addr_info) {
          if (typeof a !== "object" || a === null) continue;
          const ai = a as Record<string, unknown>;
          if (typeof ai.local !== "string") continue;
          const prefix = toInt(ai.prefixlen);
          addresses.push(prefix === null ? ai.local : `${ai.local}/${prefix}`);
        }
      }
      out.push({
        name: o.ifname,
        mac: typeof o.address === "string" ? o.address : null,
        addresses,
        state: typeof o.operstate === "string" ? o.operstate.toUpperCase() : null,
        mtu: toInt(o.mtu),
        speedMbps: null,
        rdmaDevice: null,
      });
    }
    return out;
  });
}
