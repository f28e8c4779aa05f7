// The fan-out half of bench:bundle: one bundle-sized file (random bytes: a transfer test) to 10 and 30 SSH test hosts
// whose links — every host's veth both ways and the installer's side of the bridge — are limited with tc, once by
// parallel `scp` from this machine and once by relayFanOut, in the same run. Prints both times and the ratio.
import { execFile } from "node:child_process";
import { statfsSync } from "node:fs";
import type { Part } from "../../installer/src/bundle/distribute.js";
import { relayFanOut } from "../../installer/src/bundle/relay.js";
import { connectSsh } from "../../installer/src/bundle/remote-ssh.js";
import { startTestHosts, type TestHost, type TestLab } from "../hosts/lab.js";
import { limitLinks } from "./links.js";

const REMOTE = "/var/lib/omstack/bench";

function scp(lab: TestLab, host: TestHost, file: string, dest: string): Promise<void> {
  const args = ["-F", "/dev/null", "-q", "-i", lab.identityFile, "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${lab.knownHostsFile}`,
    "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", file, `root@${host.address}:${dest}`];
  return new Promise((res, rej) => execFile("scp", args, (err, _o, stderr) => (err ? rej(new Error(`scp to ${host.name}: ${stderr.trim() || err.message}`)) : res())));
}

/** Free bytes of the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Runs scp and relay to the first n hosts of the lab; returns seconds of each. */
async function round(lab: TestLab, n: number, part: Part, discard: boolean): Promise<{ scp: number; relay: number; installerBytes: number }> {
  const hosts = lab.hosts.slice(0, n);
  // through each host's sshd: the overlay's merged view must not be changed behind its back in the upper dir
  const onAll = (cmd: string) => Promise.all(hosts.map((h) => new Promise<void>((res, rej) => execFile("ssh", lab.sshArgs(h.name, [cmd]), (e) => (e ? rej(e) : res())))));
  const wipe = () => onAll(`rm -rf ${REMOTE} && mkdir -p ${REMOTE}`);
  await wipe();
  let t = process.hrtime.bigint();
  await Promise.all(hosts.map((h) => scp(lab, h, part.local, discard ? "/dev/null" : `${REMOTE}/${part.path}`)));
  const scpS = Number(process.hrtime.bigint() - t) / 1e9;
  await wipe();
  // relay: connecting is part of the timed work, as it is for scp
  t = process.hrtime.bigint();
  const remotes = await Promise.all(hosts.map((h) => connectSsh({ name: h.name, address: h.address, port: h.port, user: h.user, identityFile: h.identityFile, hostKeyLine: h.hostKeyLine })));
  const t0 = Date.now();
  const debug = process.env.BENCH_DEBUG === "1" ? (e: object) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(2)} ${JSON.stringify(e)}\n`) : undefined;
  const report = await relayFanOut(remotes, [part], { remoteDir: REMOTE, concurrency: n, discard, ...(debug ? { onEvent: debug } : {}) });
  const relayS = Number(process.hrtime.bigint() - t) / 1e9;
  for (const r of remotes) r.close();
  await wipe();
  return { scp: scpS, relay: relayS, installerBytes: report.installerBytes };
}

/** The fan-out benchmark over a file of `bytes` at `local`, printing one line per host count. */
export async function fanoutBench(local: string, bytes: number, sha256: string, runDir: string, out: (s: string) => void): Promise<void> {
  const counts = (process.env.BENCH_FANOUT_HOSTS ?? "10,30").split(",").map(Number).filter((n) => n > 0);
  const mbit = Number(process.env.BENCH_LINK_MBIT ?? 1000);
  const max = Math.max(...counts);
  // every host keeps a copy in its overlay upper dir (under runDir): check the room first
  const need = max * bytes + 2 * 2 ** 30;
  const free = freeBytes(runDir);
  const discard = process.env.BENCH_DISCARD === "1" || free < need;
  out(`fan-out: ${(bytes / 2 ** 20).toFixed(0)} MiB of random bytes, links limited to ${mbit} Mbit/s each way (hosts and installer), ` +
    `${(free / 2 ** 30).toFixed(0)} GiB free, ${(need / 2 ** 30).toFixed(0)} GiB needed to keep every copy\n`);
  if (discard) out(`fan-out: DISCARD MODE — receivers that are not needed as relay sources hash what arrives and store nothing; scp writes to /dev/null\n`);
  const lab = await startTestHosts(Array.from({ length: max }, (_, i) => ({ name: `bench-${String(i + 1).padStart(2, "0")}` })), { runDir });
  try {
    await limitLinks(lab, mbit, { installer: true });
    const part: Part = { path: "omstack-bench.tar", size: bytes, sha256, local };
    for (const n of counts) {
      const r = await round(lab, n, part, discard);
      out(`fan-out to ${String(n).padStart(2)} hosts: parallel scp ${r.scp.toFixed(1)} s, relay ${r.relay.toFixed(1)} s (sha256 verified on every host), ` +
        `ratio ${(r.relay / r.scp).toFixed(2)}x  (target <= 0.35x at 30 hosts); installer sent ${(r.installerBytes / bytes).toFixed(1)} copies\n`);
    }
  } finally {
    await lab.stop();
  }
}
