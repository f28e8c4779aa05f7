// Turns what the operator types on the Hosts screen into host names and addresses: one address, `name=address`, or a
// range `10.0.0.11-18` (several, separated by spaces or commas, so a pasted list works). Pure.

/** A host as typed, before SSH settings are applied. */
export interface HostEntry {
  name: string;
  address: string;
}

/** The largest range accepted in one entry (a /24 minus network and broadcast). */
export const MAX_RANGE = 254;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const RANGE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})-(\d{1,3})$/;
const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$/;
const DNS = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9a-fA-F:]+$/;

function nameFor(address: string, prefix: string | null): string {
  const v4 = IPV4.exec(address);
  if (v4) return `${prefix ?? "node"}-${v4[4]}`;
  if (address.includes(":")) return `${prefix ?? "node"}-${address.split(":").filter(Boolean).pop() ?? "0"}`;
  return prefix ?? address.split(".")[0]!;
}

/** Parses one or more entries; returns the hosts or the first mistake, worded for the operator. */
export function parseHostEntries(text: string, taken: readonly HostEntry[]): { hosts: HostEntry[] } | { error: string } {
  const tokens = text.split(/[\s,]+/).filter(Boolean);
  const out: HostEntry[] = [];
  for (const token of tokens) {
    const eq = token.indexOf("=");
    const explicit = eq >= 0 ? token.slice(0, eq) : null;
    const addr = eq >= 0 ? token.slice(eq + 1) : token;
    if (explicit !== null && !NODE_NAME.test(explicit)) return { error: `"${explicit}" is not a valid host name: use letters, digits, '-' and '.'` };
    const range = RANGE.exec(addr);
    if (range) {
      const octets = range.slice(1, 5).map(Number);
      const end = Number(range[5]);
      if (octets.some((o) => o > 255) || end > 255) return { error: `"${addr}": each number of an IPv4 address is 0-255` };
      if (end < octets[3]!) return { error: `"${addr}": the range must count up (the last number ${end} is below ${octets[3]})` };
      if (end - octets[3]! + 1 > MAX_RANGE) return { error: `"${addr}" names ${end - octets[3]! + 1} hosts; at most ${MAX_RANGE} per range` };
      for (let last = octets[3]!; last <= end; last++) {
        const address = `${octets[0]}.${octets[1]}.${octets[2]}.${last}`;
        out.push({ name: nameFor(address, explicit), address });
      }
      continue;
    }
    const v4 = IPV4.exec(addr);
    if (v4) {
      if (v4.slice(1).some((o) => Number(o) > 255)) return { error: `"${addr}": each number of an IPv4 address is 0-255` };
    } else if (addr.includes(":")) {
      if (!IPV6.test(addr) || addr.split(":").length > 8) return { error: `"${addr}" is not a valid IPv6 address (write it without brackets or port)` };
    } else if (!DNS.test(addr) || /^[\d.]+$/.test(addr)) {
      return { error: `"${addr}" is neither an address, a range like 10.0.0.11-18, nor a DNS name` };
    }
    out.push({ name: explicit ?? nameFor(addr, null), address: addr });
  }
  if (out.length === 0) return { error: "type an address, a range like 10.0.0.11-18, or name=address" };
  const seenNames = new Map(taken.map((h) => [h.name.toLowerCase(), h.address]));
  const seenAddrs = new Map(taken.map((h) => [h.address.toLowerCase(), h.name]));
  for (const h of out) {
    if (!NODE_NAME.test(h.name)) return { error: `"${h.name}" (for ${h.address}) is not a valid host name; type name=${h.address}` };
    if (seenNames.has(h.name.toLowerCase())) return { error: `host name ${h.name} is already used (by ${seenNames.get(h.name.toLowerCase())}); type name=${h.address} to choose another` };
    if (seenAddrs.has(h.address.toLowerCase())) return { error: `${h.address} is already in the list (as ${seenAddrs.get(h.address.toLowerCase())})` };
    seenNames.set(h.name.toLowerCase(), h.address);
    seenAddrs.set(h.address.toLowerCase(), h.name);
  }
  return { hosts: out };
}
