// Fan-out of bundle parts to hosts: skip what a host already holds (by sha256), resume an interrupted transfer from
// the bytes that arrived, verify on arrival before the final name appears, bounded concurrency, and every host's
// failure reported together. The remote side is a port (RemoteHost), so this core is tested with real SSH hosts and
// would run unchanged over any transport.
import { createReadStream } from "node:fs";
import { Transform, type Readable } from "node:stream";
import { AggregateOmstackError, OmstackError } from "../errors.js";
import { pathProblem } from "./paths.js";

/** What the fan-out needs from a host: run a shell command, optionally streaming bytes into its stdin. */
export interface RemoteHost {
  readonly name: string;
  exec(command: string, stdin?: Readable): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** One file to place on hosts: its path under the remote folder and where it is on this machine. */
export interface Part {
  path: string;
  size: number;
  sha256: string;
  local: string;
}

/** Progress events, one line each for plain output. */
export type FanoutEvent =
  | { host: string; kind: "skip"; path: string }
  | { host: string; kind: "resume"; path: string; from: number }
  | { host: string; kind: "sent"; path: string; bytes: number }
  | { host: string; kind: "retry"; path: string; attempt: number; reason: string }
  | { host: string; kind: "relay"; path: string; source: string; from: number }
  | { host: string; kind: "source-lost"; source: string; reason: string }
  | { host: string; kind: "hashed"; path: string; source: string };

/** Options of one fan-out. */
export interface FanoutOptions {
  remoteDir: string; // absolute folder on every host
  concurrency: number; // hosts served at once
  attempts?: number; // per part and host (default 3)
  onEvent?(e: FanoutEvent): void;
}

/** Per host: parts skipped, parts sent and bytes sent. */
export interface FanoutReport {
  hosts: { name: string; skipped: number; sent: number; bytes: number }[];
}

/** Single-quotes a string for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The first word of sha256sum output, or null. */
function firstHash(out: string): string | null {
  const m = /^([0-9a-f]{64})\b/.exec(out.trim());
  return m ? m[1]! : null;
}

function partialName(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.part`;
}

/** Places one part on one host from this machine: skip, resume, verify, rename. `hash` is the host's hash command. */
export async function placePart(host: RemoteHost, part: Part, opts: FanoutOptions, hash = "sha256sum"): Promise<{ skipped: boolean; bytes: number }> {
  const final = `${opts.remoteDir}/${part.path}`;
  const partial = `${opts.remoteDir}/${partialName(part.path)}`;
  const q = shQuote;
  const probe = await host.exec(`echo "F:$(${hash} ${q(final)} 2>/dev/null | cut -c1-64)"; echo "P:$(stat -c %s ${q(partial)} 2>/dev/null || echo 0)"`);
  const line = (prefix: string) => probe.stdout.split("\n").find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? "";
  const finalLine = line("F:");
  const partLine = line("P:");
  if (firstHash(finalLine) === part.sha256) {
    opts.onEvent?.({ host: host.name, kind: "skip", path: part.path });
    return { skipped: true, bytes: 0 };
  }
  let sent = 0;
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const have = attempt === 1 ? Number(partLine.trim()) || 0 : Number((await host.exec(`stat -c %s ${q(partial)} 2>/dev/null || echo 0`)).stdout.trim()) || 0;
    const from = have <= part.size ? have : 0;
    if (from > 0) opts.onEvent?.({ host: host.name, kind: "resume", path: part.path, from });
    try {
      const src = createReadStream(part.local, { start: from, highWaterMark: 1 << 20 }).pipe(
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sent += chunk.length;
            cb(null, chunk);
          },
        }),
      );
      const dir = final.slice(0, final.lastIndexOf("/"));
      const r = await host.exec(`mkdir -p ${q(dir)} && ${from === 0 ? `: > ${q(partial)} && ` : ""}cat >> ${q(partial)}`, from < part.size ? src : undefined);
      if (from >= part.size) src.destroy();
      if (r.code !== 0) throw new Error(`writing ${partial} failed (exit ${r.code}): ${r.stderr.trim().slice(-300)}`);
      break;
    } catch (e) {
      if (e instanceof OmstackError && e.code !== "E_SSH_CONNECT") throw e;
      if (attempt >= attempts) {
        throw new OmstackError("E_BUNDLE_WRITE", `${host.name}: cannot copy ${part.path}: ${(e as Error).message}`, {
          host: host.name,
          remedy: "check the host's disk space and network, then run again: finished parts are skipped and this one resumes",
          cause: e,
        });
      }
      opts.onEvent?.({ host: host.name, kind: "retry", path: part.path, attempt, reason: (e as Error).message });
    }
  }
  const check = await host.exec(`${hash} ${q(partial)}`);
  const got = firstHash(check.stdout);
  if (got !== part.sha256) {
    await host.exec(`rm -f ${q(partial)}`);
    throw new OmstackError("E_BUNDLE_CHECKSUM", `${host.name}: ${part.path} arrived as sha256 ${got ?? "?"}; expected ${part.sha256}`, {
      host: host.name,
      remedy: "the copy was damaged in transit or on the host's disk; run again (the damaged copy was removed)",
    });
  }
  const mv = await host.exec(`chmod 0644 ${q(partial)} && mv -f ${q(partial)} ${q(final)}`);
  if (mv.code !== 0) throw new OmstackError("E_BUNDLE_WRITE", `${host.name}: cannot rename ${partial}: ${mv.stderr.trim()}`, { host: host.name, remedy: "check the folder's permissions" });
  opts.onEvent?.({ host: host.name, kind: "sent", path: part.path, bytes: sent });
  return { skipped: false, bytes: sent };
}

/** Pushes every part to every host (at most `concurrency` hosts at once); throws one error listing every failed host. */
export async function fanOut(hosts: RemoteHost[], parts: Part[], opts: FanoutOptions): Promise<FanoutReport> {
  if (!opts.remoteDir.startsWith("/")) throw new OmstackError("E_USAGE", `the remote folder must be absolute, found ${opts.remoteDir}`, { remedy: "use e.g. /var/lib/omstack/bundle" });
  for (const p of parts) {
    const problem = pathProblem(p.path);
    if (problem) throw new OmstackError("E_BUNDLE_UNSAFE_PATH", `part "${p.path}": ${problem}`, { remedy: "pass paths from bundle.json" });
  }
  const report: FanoutReport["hosts"] = hosts.map((h) => ({ name: h.name, skipped: 0, sent: 0, bytes: 0 }));
  const failures: OmstackError[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= hosts.length) return;
      const host = hosts[i]!;
      try {
        for (const p of parts) {
          const r = await placePart(host, p, opts);
          if (r.skipped) report[i]!.skipped++;
          else report[i]!.sent++;
          report[i]!.bytes += r.bytes;
        }
      } catch (e) {
        failures.push(e instanceof OmstackError ? e : new OmstackError("E_BUNDLE_WRITE", `${host.name}: ${(e as Error).message}`, { host: host.name, cause: e }));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, hosts.length)) }, worker));
  if (failures.length > 0) throw new AggregateOmstackError("E_BUNDLE_WRITE", `fan-out failed on ${failures.length} of ${hosts.length} hosts`, failures);
  return { hosts: report };
}

/**
 * The relay schedule for many hosts (pure): in each round every host that already holds the bundle sends it to one
 * that does not, the installer counting as a holder, so n hosts are served in about log2(n + 1) rounds.
 */
export function relayRounds(hosts: string[], sources = 1): { from: string; to: string }[][] {
  const holders = Array.from({ length: sources }, (_, i) => `installer${sources > 1 ? `-${i + 1}` : ""}`);
  const waiting = [...hosts];
  const rounds: { from: string; to: string }[][] = [];
  while (waiting.length > 0) {
    const round = holders.slice(0, waiting.length).map((from) => ({ from, to: waiting.shift()! }));
    for (const t of round) holders.push(t.to);
    rounds.push(round);
  }
  return rounds;
}
