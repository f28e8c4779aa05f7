// Host-to-host relay fan-out: every host that holds the parts sends them on to a host that lacks them, over the
// cluster network, so the installer's link carries only the first copies. The installer drives everything over its
// own SSH sessions: it puts a per-run ed25519 key on sources and, on each target, an authorized_keys line that lets
// only that key, only from the current source's address, run only a receiver that appends to fixed partial files.
// Each part is verified on the target before its final name appears; a cut stream resumes from the bytes that
// arrived; a source that dies or cannot reach a target is dropped and the target is served by another holder.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import ssh2 from "ssh2";
import { AggregateOmstackError, OmstackError } from "../errors.js";
import { placePart, shQuote, type FanoutEvent, type FanoutOptions, type Part, type RemoteHost } from "./distribute.js";
import { pathProblem } from "./paths.js";
import {
  authorizedEditScript,
  authorizedLine,
  hashCommand,
  knownHostsLines,
  parseProbe,
  partialPath,
  probeScript,
  receiverScript,
  relayDirProblem,
  relayPaths,
  sendCommand,
  type HostProbe,
} from "./relay-scripts.js";

/** A host the relay can use: how the installer runs commands there, and how its peers reach and authenticate it. */
export interface RelayHost extends RemoteHost {
  /** The address peers connect to, and the address its own connections to peers come from (authorized_keys from=). */
  address: string;
  port: number;
  user: string;
  /** The host key the installer pinned ("ssh-ed25519 AAAA…"); sources check targets against it. */
  hostKeyLine: string;
}

/** Options of a relay fan-out. */
export interface RelayOptions extends FanoutOptions {
  /** Transfers at once over the whole cluster (each host sends one and receives one at a time). */
  concurrency: number;
  /** Hosts the installer itself sends to at once (default 1: its link is shared by all of them). */
  installerStreams?: number;
  /** Benchmark only: hosts that are not needed as sources hash what they receive and store nothing. */
  discard?: boolean;
}

/** Per host: what it got and from whom; totals show how little went over the installer's link. */
export interface RelayReport {
  hosts: { name: string; skipped: number; sent: number; bytes: number; via: string[]; discarded: boolean }[];
  installerBytes: number;
  relayedBytes: number;
  sourcesLost: string[];
}

const INSTALLER = "installer";
const MARKER_PREFIX = "omstack-relay-";

/** A failure the source is to blame for: the target goes back to the queue and is served by another holder. */
class SourceFailure extends Error {}

interface HostState {
  h: RelayHost;
  probe: HostProbe | null;
  need: number[];
  status: "waiting" | "busy" | "holder" | "discarded" | "failed";
  sending: boolean;
  discarding: boolean;
  lost: boolean;
  badPairs: Set<string>; // names of peers a relay with this host failed with
  sourceReady: Promise<void> | null;
  targetReady: Promise<void> | null;
  touched: boolean;
  attempts: number;
  via: string[];
  bytes: number;
  sent: number;
  skipped: number;
  error: OmstackError | null;
}

function firstHash(out: string): string | null {
  const m = /^([0-9a-f]{64})\b/.exec(out.trim());
  return m ? m[1]! : null;
}

function tail(s: string): string {
  return s.trim().slice(-300);
}

/** Runs fn over items with at most n at once. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Places every part on every host, relaying host to host; throws one error listing every host that could not be served. */
export async function relayFanOut(hosts: RelayHost[], parts: Part[], opts: RelayOptions): Promise<RelayReport> {
  const dirProblem = relayDirProblem(opts.remoteDir);
  if (dirProblem) throw new OmstackError("E_USAGE", `the remote folder ${opts.remoteDir} cannot be used for relaying: ${dirProblem}`, { remedy: "use e.g. /var/lib/omstack/bundle" });
  for (const p of parts) {
    const problem = pathProblem(p.path);
    if (problem) throw new OmstackError("E_BUNDLE_UNSAFE_PATH", `part "${p.path}": ${problem}`, { remedy: "pass paths from bundle.json" });
  }
  const names = new Set<string>();
  for (const h of hosts) {
    if (names.has(h.name) || h.name === INSTALLER) throw new OmstackError("E_CONFIG_DUPLICATE", `host name ${h.name} appears twice or is reserved`, { remedy: "give every host a unique name" });
    names.add(h.name);
  }
  const runId = randomBytes(6).toString("hex");
  const rp = relayPaths(opts.remoteDir, runId);
  const keyPair = ssh2.utils.generateKeyPairSync("ed25519", { comment: rp.marker });
  const attempts = opts.attempts ?? 3;
  const emit = (e: FanoutEvent) => opts.onEvent?.(e);
  const q = shQuote;
  const states: HostState[] = hosts.map((h) => ({
    h, probe: null, need: [], status: "waiting", sending: false, discarding: false, lost: false, badPairs: new Set(), sourceReady: null, targetReady: null,
    touched: false, attempts: 0, via: [], bytes: 0, sent: 0, skipped: 0, error: null,
  }));
  const fail = (s: HostState, e: unknown) => {
    s.status = "failed";
    s.error = e instanceof OmstackError ? e : new OmstackError("E_BUNDLE_WRITE", `${s.h.name}: ${(e as Error).message}`, { host: s.h.name, cause: e });
  };
  let installerBytes = 0;
  let relayedBytes = 0;
  const sourcesLost: string[] = [];

  // 1. what every host has, and what relaying there needs
  await pool(states, Math.max(4, opts.concurrency), async (s) => {
    try {
      const r = await s.h.exec(probeScript(opts.remoteDir, parts.map((p) => p.path)));
      s.probe = parseProbe(r.stdout, parts.length);
      parts.forEach((p, i) => {
        if (s.probe!.finals[i] === p.sha256) {
          s.skipped++;
          emit({ host: s.h.name, kind: "skip", path: p.path });
        } else s.need.push(i);
      });
      if (s.need.length === 0) s.status = "holder";
    } catch (e) {
      fail(s, e);
    }
  });

  const canSource = (s: HostState) => s.status === "holder" && !s.lost && !s.sending && s.probe?.ssh === true && s.badPairs.size < 2;
  const relayTarget = (t: HostState) => t.probe?.authorizedKeys != null && t.badPairs.size < 2;

  const ensureSource = (s: HostState) =>
    (s.sourceReady ??= (async () => {
      s.touched = true;
      const put = async (file: string, text: string) => {
        const r = await s.h.exec(`umask 077 && mkdir -p ${q(rp.dir)} && cat > ${q(file)}`, Readable.from([Buffer.from(text)]));
        if (r.code !== 0) throw new SourceFailure(`cannot write ${file}: ${tail(r.stderr)}`);
      };
      await put(rp.key, keyPair.private);
      await put(rp.knownHosts, knownHostsLines(hosts));
    })());

  const ensureTarget = (t: HostState) =>
    (t.targetReady ??= (async () => {
      t.touched = true;
      const script = receiverScript(opts.remoteDir, runId, parts.map((p) => p.path), t.probe!.hasher);
      const r = await t.h.exec(`umask 077 && mkdir -p ${q(rp.dir)} && cat > ${q(rp.receiver)}`, Readable.from([Buffer.from(script)]));
      if (r.code !== 0) throw new OmstackError("E_BUNDLE_WRITE", `${t.h.name}: cannot write the relay receiver: ${tail(r.stderr)}`, { host: t.h.name });
    })());

  /** Whether a host still answers (a new connection if the old one was lost). */
  const alive = (s: HostState) => s.h.exec("true").then((r) => r.code === 0, () => false);

  /** One part from source S to target T over the cluster network. */
  async function relayPart(src: HostState, t: HostState, pi: number, discard: boolean): Promise<void> {
    const part = parts[pi]!;
    const partial = partialPath(opts.remoteDir, part.path);
    const final = `${opts.remoteDir}/${part.path}`;
    await ensureTarget(t);
    try {
      await ensureSource(src);
    } catch (e) {
      src.sourceReady = null;
      throw e instanceof SourceFailure ? e : new SourceFailure((e as Error).message);
    }
    const line = authorizedLine(keyPair.public, rp.receiver, src.h.address, rp.marker);
    const prep = await t.h.exec(`${authorizedEditScript(t.probe!.authorizedKeys!, MARKER_PREFIX, line)}\necho "P:$(stat -c %s ${q(partial)} 2>/dev/null || echo 0)"`);
    if (prep.code !== 0) throw new OmstackError("E_BUNDLE_WRITE", `${t.h.name}: cannot add the relay key to ${t.probe!.authorizedKeys}: ${tail(prep.stderr)}`, { host: t.h.name });
    let have = Number(/P:(\d+)/.exec(prep.stdout)?.[1] ?? "0");
    if (have > part.size || discard) {
      if (have > 0) await t.h.exec(`rm -f ${q(partial)}`);
      have = 0;
    }
    if (have > 0) emit({ host: t.h.name, kind: "resume", path: part.path, from: have });
    emit({ host: t.h.name, kind: "relay", path: part.path, source: src.h.name, from: have });
    const cmd = sendCommand({ final, offset: have, key: rp.key, knownHosts: rp.knownHosts, target: t.h, request: discard ? `hash ${pi}` : `put ${pi} ${have}` });
    let r: { code: number | null; stdout: string; stderr: string };
    try {
      r = await src.h.exec(cmd);
    } catch (e) {
      if (!(await alive(src))) {
        src.lost = true;
        sourcesLost.push(src.h.name);
      }
      throw new SourceFailure(`${src.h.name} was lost while sending ${part.path}: ${(e as Error).message}`);
    }
    if (r.code !== 0) {
      if (!(await alive(t))) throw new OmstackError("E_SSH_CONNECT", `${t.h.name}: lost while receiving ${part.path} from ${src.h.name}`, { host: t.h.name });
      if (r.code === 255) throw new SourceFailure(`ssh from ${src.h.name} to ${t.h.name} failed: ${tail(r.stderr) || "exit 255"}`);
      throw new OmstackError("E_BUNDLE_WRITE", `${t.h.name}: the relay receiver for ${part.path} failed (exit ${r.code}): ${tail(r.stderr)}`, {
        host: t.h.name,
        remedy: "check the host's disk space and the folder's permissions, then run again: finished parts are skipped",
      });
    }
    const sent = part.size - have;
    if (discard) {
      const got = firstHash(r.stdout);
      if (got !== part.sha256) throw new OmstackError("E_BUNDLE_CHECKSUM", `${t.h.name}: ${part.path} arrived as sha256 ${got ?? "?"}; expected ${part.sha256}`, { host: t.h.name });
      relayedBytes += part.size;
      t.bytes += part.size;
      emit({ host: t.h.name, kind: "hashed", path: part.path, source: src.h.name });
      return;
    }
    const v = await t.h.exec(`s=$(stat -c %s ${q(partial)} 2>/dev/null || echo 0); echo "S:$s"; [ "$s" -eq ${part.size} ] && ${hashCommand(t.probe!.hasher)} ${q(partial)}`);
    const size = Number(/S:(\d+)/.exec(v.stdout)?.[1] ?? "0");
    relayedBytes += Math.max(0, size - have);
    t.bytes += Math.max(0, size - have);
    if (size < part.size) throw new SourceFailure(`the stream from ${src.h.name} ended after ${size} of ${part.size} bytes of ${part.path}`);
    const got = firstHash(v.stdout.split("\n").find((l) => !l.startsWith("S:")) ?? "");
    if (got !== part.sha256) {
      await t.h.exec(`rm -f ${q(partial)}`);
      throw new OmstackError("E_BUNDLE_CHECKSUM", `${t.h.name}: ${part.path} arrived as sha256 ${got ?? "?"}; expected ${part.sha256}`, {
        host: t.h.name,
        remedy: "the copy was damaged in transit or on the host's disk; run again (the damaged copy was removed)",
      });
    }
    const mv = await t.h.exec(`chmod 0644 ${q(partial)} && mv -f ${q(partial)} ${q(final)}`);
    if (mv.code !== 0) throw new OmstackError("E_BUNDLE_WRITE", `${t.h.name}: cannot rename ${partial}: ${tail(mv.stderr)}`, { host: t.h.name, remedy: "check the folder's permissions" });
    emit({ host: t.h.name, kind: "sent", path: part.path, bytes: sent });
  }

  /** Moves every part T lacks from src (a host or the installer). */
  async function transfer(src: HostState | null, t: HostState, discard: boolean): Promise<void> {
    t.via.push(src ? src.h.name : INSTALLER);
    while (t.need.length > 0) {
      const pi = t.need[0]!;
      if (src) await relayPart(src, t, pi, discard);
      else {
        const r = await placePart(t.h, parts[pi]!, { ...opts, onEvent: emit }, hashCommand(t.probe!.hasher));
        installerBytes += r.bytes;
        t.bytes += r.bytes;
      }
      t.sent++;
      t.need.shift();
    }
  }

  // 2. the schedule: whenever a holder (or an installer stream) is free and a host waits, start a transfer
  const installerStreams = Math.max(1, opts.installerStreams ?? 1);
  let installerBusy = 0;
  const inflight = new Set<Promise<void>>();
  const maxInflight = Math.max(1, opts.concurrency);
  const waiting = () => states.filter((s) => s.status === "waiting");
  const start = (src: HostState | null, t: HostState) => {
    t.status = "busy";
    if (src) src.sending = true;
    else installerBusy++;
    // discard mode: T need not keep a copy when the hosts that will hold one already outnumber those still waiting
    const keepers = states.filter((s) => s !== t && !s.lost && s.probe?.ssh === true && (s.status === "holder" || (s.status === "busy" && !s.discarding))).length + installerStreams;
    const discard = opts.discard === true && src !== null && keepers >= waiting().length;
    t.discarding = discard;
    const p: Promise<void> = transfer(src, t, discard)
      .then(() => {
        t.status = discard ? "discarded" : "holder";
      })
      .catch((e: unknown) => {
        if (e instanceof SourceFailure && src) {
          src.badPairs.add(t.h.name);
          t.badPairs.add(src.h.name);
          emit({ host: t.h.name, kind: "source-lost", source: src.h.name, reason: e.message });
          t.status = "waiting";
          return;
        }
        t.attempts++;
        if (src && t.attempts < attempts) {
          emit({ host: t.h.name, kind: "retry", path: parts[t.need[0] ?? 0]!.path, attempt: t.attempts, reason: (e as Error).message });
          t.status = "waiting";
          return;
        }
        fail(t, e);
      })
      .finally(() => {
        if (src) src.sending = false;
        else installerBusy--;
        inflight.delete(p);
      });
    inflight.add(p);
  };
  const schedule = () => {
    for (const t of waiting()) {
      if (inflight.size >= maxInflight) return;
      const src = relayTarget(t) ? states.find((s) => canSource(s) && !s.badPairs.has(t.h.name) && !t.badPairs.has(s.h.name)) : undefined;
      if (src) start(src, t);
      else if (installerBusy < installerStreams) start(null, t);
    }
  };
  try {
    for (;;) {
      schedule();
      if (inflight.size === 0) break;
      await Promise.race(inflight);
    }
  } finally {
    // 3. remove this run's key, known_hosts, receivers and authorized_keys lines from every host that got them
    await pool(states.filter((s) => s.touched && !s.lost), Math.max(4, opts.concurrency), async (s) => {
      const ak = s.probe?.authorizedKeys;
      await s.h.exec(`${ak ? `${authorizedEditScript(ak, MARKER_PREFIX, null)}\n` : ""}rm -rf ${q(rp.dir)}`).catch(() => undefined);
    });
  }
  const failures = states.filter((s) => s.status === "failed").map((s) => s.error!);
  if (failures.length > 0) throw new AggregateOmstackError("E_BUNDLE_WRITE", `fan-out failed on ${failures.length} of ${hosts.length} hosts`, failures);
  return {
    hosts: states.map((s) => ({ name: s.h.name, skipped: s.skipped, sent: s.sent, bytes: s.bytes, via: s.via, discarded: s.status === "discarded" })),
    installerBytes,
    relayedBytes,
    sourcesLost,
  };
}
