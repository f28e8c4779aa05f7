// Rate limits for the SSH test hosts' links with tc tbf, so fan-out tests and the benchmark see a real network's
// bandwidth instead of a memory copy: each host's veth both ways, and optionally the installer's side of the bridge.
// The qdiscs live on the lab's own links, so lab.stop() removes them with the links.
import { execFile } from "node:child_process";
import { bridgeName, hostNames } from "../hosts/names.js";
import type { TestLab } from "../hosts/lab.js";

function tc(args: string[]): Promise<void> {
  return new Promise((res, rej) =>
    execFile("tc", args, (err, _o, stderr) => (err ? rej(new Error(`tc ${args.join(" ")} failed: ${stderr.trim() || err.message}`)) : res())),
  );
}

/** tbf arguments for a rate in Mbit/s: a burst of about 8 ms of traffic (at least 128 KiB) and 50 ms of queue. */
function tbf(mbit: number): string[] {
  if (!Number.isFinite(mbit) || mbit <= 0) throw new Error(`rate limit must be a positive number of Mbit/s, found ${mbit}`);
  const burst = Math.max(128 * 1024, Math.round(mbit * 1000));
  return ["root", "tbf", "rate", `${mbit}mbit`, "burst", String(burst), "latency", "50ms"];
}

/** Limits every host's link to `mbit` each way; with `installer`, also what this machine sends into the lab's bridge. */
export async function limitLinks(lab: TestLab, mbit: number, opts: { installer?: boolean } = {}): Promise<void> {
  const args = tbf(mbit);
  const jobs: Promise<void>[] = [];
  lab.hosts.forEach((h, i) => {
    if (h.fault === "unreachable") return;
    const n = hostNames(lab.prefix, i);
    jobs.push(tc(["qdisc", "replace", "dev", n.veth, ...args])); // into the host (its download)
    jobs.push(tc(["-n", n.netns, "qdisc", "replace", "dev", "eth0", ...args])); // out of the host (its upload)
  });
  if (opts.installer) jobs.push(tc(["qdisc", "replace", "dev", bridgeName(lab.prefix), ...args])); // installer → hosts
  await Promise.all(jobs);
}
