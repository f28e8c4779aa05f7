// The lab's network: one bridge in the root namespace (gateway .1) and, per host, a netns joined by a veth.
// Everything is made in one `ip -batch` so 50 hosts cost one process; deletion touches only names with the lab's prefix.

import { writeFileSync } from "node:fs";
import { bridgeName, gatewayAddress, hostNames } from "./names.js";
import { run } from "./machine.js";

/** Creates the bridge and, for each host index, a netns whose eth0 is a veth on the bridge. */
export async function createLabNetwork(prefix: string, subnetIndex: number, hostIndices: readonly number[]): Promise<void> {
  const br = bridgeName(prefix);
  const lines = [`link add ${br} type bridge`, `addr add ${gatewayAddress(subnetIndex)}/24 dev ${br}`];
  for (const i of hostIndices) {
    const n = hostNames(prefix, i);
    lines.push(`netns add ${n.netns}`, `link add ${n.veth} type veth peer name eth0 netns ${n.netns}`, `link set ${n.veth} master ${br} up`);
  }
  lines.push(`link set ${br} up`);
  await run("ip", ["-batch", "-"], { input: lines.join("\n") + "\n" });
  quietIpv6(br);
}

/** Recreates one host's netns and veth (after it was stopped). */
export async function createHostNetwork(prefix: string, index: number): Promise<void> {
  const n = hostNames(prefix, index);
  await run("ip", ["-batch", "-"], {
    input: `netns add ${n.netns}\nlink add ${n.veth} type veth peer name eth0 netns ${n.netns}\nlink set ${n.veth} master ${bridgeName(prefix)} up\n`,
  });
}

/** No IPv6 autoconfiguration chatter on the lab bridge. */
function quietIpv6(link: string): void {
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${link}/disable_ipv6`, "1");
  } catch {
    // IPv6 disabled on the machine: nothing to quiet
  }
}

/** Names of netns and links that carry the lab prefix (what a crashed run may have left). */
export async function listLabNetwork(prefix: string): Promise<{ netns: string[]; links: string[] }> {
  const ns = await run("ip", ["netns", "list"], { allowFail: true });
  const links = await run("ip", ["-o", "link", "show"], { allowFail: true });
  const netns = ns.stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => new RegExp(`^${prefix}-h\\d+$`).test(n));
  const linkNames = links.stdout
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? "")
    .filter((n) => n === bridgeName(prefix) || new RegExp(`^${prefix}v\\d+$`).test(n));
  return { netns, links: linkNames };
}

/** Deletes the given netns and links (missing ones are fine). */
export async function deleteNetwork(netns: readonly string[], links: readonly string[]): Promise<void> {
  if (netns.length === 0 && links.length === 0) return;
  const lines = [...netns.map((n) => `netns del ${n}`), ...links.map((l) => `link del ${l}`)];
  await run("ip", ["-force", "-batch", "-"], { input: lines.join("\n") + "\n", allowFail: true });
}

/** PIDs of processes inside a netns. */
export async function pidsInNetns(netns: string): Promise<number[]> {
  const r = await run("ip", ["netns", "pids", netns], { allowFail: true });
  return r.stdout
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Addresses of 198.18.X.0/24 already on the machine's interfaces (a subnet someone else uses). */
export async function subnetInUse(subnetIndex: number): Promise<string | null> {
  const r = await run("ip", ["-4", "-o", "addr", "show"], { allowFail: true });
  const hit = r.stdout.split("\n").find((l) => l.includes(` 198.18.${subnetIndex}.`));
  return hit === undefined ? null : hit.trim();
}
