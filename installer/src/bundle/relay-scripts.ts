// Pure renderers and parsers for host-to-host relay: the host probe, the restricted receiver a relay key may run,
// the authorized_keys line that pins it, the known_hosts a source checks targets against, and the source's send
// command. Kept apart from relay.ts so every string that reaches a host's shell is unit-tested.
import { shQuote } from "./distribute.js";

/** Characters allowed in the remote folder and run id: they end up inside authorized_keys' command="…". */
const SAFE_WORD = /^[A-Za-z0-9._/+-]+$/;

/** Why a remote folder cannot carry relay files, or null when it can. */
export function relayDirProblem(dir: string): string | null {
  if (!dir.startsWith("/")) return "it must be absolute";
  if (!SAFE_WORD.test(dir)) return "it may hold only letters, digits and . _ / + - (it is written into authorized_keys)";
  return null;
}

/** Paths of one run's relay files on a host. */
export function relayPaths(remoteDir: string, runId: string): { dir: string; receiver: string; key: string; knownHosts: string; marker: string } {
  const dir = `${remoteDir}/.relay`;
  return { dir, receiver: `${dir}/recv-${runId}`, key: `${dir}/key-${runId}`, knownHosts: `${dir}/known_hosts-${runId}`, marker: `omstack-relay-${runId}` };
}

/** The hash command a host uses: openssl's (CPU SHA extensions) when present, else coreutils' sha256sum. */
export type Hasher = "openssl" | "sha256sum";

/** The shell words that hash a file (or stdin when no file) with that hasher; both print "<hex> …". */
export function hashCommand(h: Hasher): string {
  return h === "openssl" ? "openssl dgst -sha256 -r" : "sha256sum";
}

/** The partial-file name of a part: `dir/.name.part`, beside its final name. */
export function partialPath(remoteDir: string, path: string): string {
  const slash = path.lastIndexOf("/");
  return `${remoteDir}/${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.part`;
}

/**
 * One exec that tells the installer what relaying on this host needs: the hasher, whether an OpenSSH client exists,
 * where the serving sshd reads authorized keys (`sshd -T` with the config named on the sshd's command line, found by
 * walking up from this session), and for each part the hash of its final file and the size of its partial file.
 */
export function probeScript(remoteDir: string, paths: string[]): string {
  const lines = [
    `H=sha256sum; command -v openssl >/dev/null 2>&1 && openssl dgst -sha256 -r /dev/null >/dev/null 2>&1 && H="openssl dgst -sha256 -r"`,
    `case $H in openssl*) echo HASHER:openssl;; *) echo HASHER:sha256sum;; esac`,
    `echo "SSH:$(command -v ssh 2>/dev/null)"`,
    `echo "HOME:$HOME"`,
    `echo "USER:$(id -un)"`,
    // the sshd serving this session: the nearest ancestor whose command line names sshd; its -f is the config it read
    `p=$PPID; cfg=""; n=0`,
    `while [ -n "$p" ] && [ "$p" -ge 1 ] && [ $n -lt 10 ]; do`,
    `  c=$(tr '\\000' ' ' < /proc/$p/cmdline 2>/dev/null)`,
    `  case $c in *sshd*" -f "*) cfg=\${c#* -f }; cfg=\${cfg%% *}; break;; esac`,
    `  [ "$p" -eq 1 ] && break`,
    `  p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status 2>/dev/null); n=$((n+1))`,
    `done`,
    `S=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)`,
    `echo "AKF:$("$S" -T \${cfg:+-f "$cfg"} -C "user=$(id -un),host=omstack-relay,addr=127.0.0.1" 2>/dev/null | sed -n 's/^authorizedkeysfile //p' | head -n 1)"`,
  ];
  paths.forEach((p, i) => {
    lines.push(`echo "F${i}:$($H ${shQuote(`${remoteDir}/${p}`)} 2>/dev/null | cut -c1-64)"`);
    lines.push(`echo "P${i}:$(stat -c %s ${shQuote(partialPath(remoteDir, p))} 2>/dev/null || echo 0)"`);
  });
  return lines.join("\n");
}

/** What probeScript printed, parsed. */
export interface HostProbe {
  hasher: Hasher;
  ssh: boolean;
  /** Absolute authorized_keys path relay lines go to, or null when sshd reads none ("none"). */
  authorizedKeys: string | null;
  finals: (string | null)[];
  partials: number[];
}

/** Parses probeScript's output (pure). */
export function parseProbe(out: string, partCount: number): HostProbe {
  const map = new Map<string, string>();
  for (const l of out.split("\n")) {
    const m = /^([A-Z]+\d*):(.*)$/.exec(l);
    if (m) map.set(m[1]!, m[2]!.trim());
  }
  const home = map.get("HOME") ?? "";
  const user = map.get("USER") ?? "";
  const finals: (string | null)[] = [];
  const partials: number[] = [];
  for (let i = 0; i < partCount; i++) {
    const f = map.get(`F${i}`) ?? "";
    finals.push(/^[0-9a-f]{64}$/.test(f) ? f : null);
    const p = Number(map.get(`P${i}`) ?? "0");
    partials.push(Number.isSafeInteger(p) && p >= 0 ? p : 0);
  }
  return {
    hasher: map.get("HASHER") === "openssl" ? "openssl" : "sha256sum",
    ssh: (map.get("SSH") ?? "") !== "",
    authorizedKeys: authorizedKeysPath(map.get("AKF") ?? "", home, user),
    finals,
    partials,
  };
}

/**
 * The file a relay line is added to, from sshd's AuthorizedKeysFile value (first entry; %h, %u, %% expanded;
 * relative = under the home folder, as sshd reads it). Empty (sshd -T unavailable) means OpenSSH's default.
 */
export function authorizedKeysPath(value: string, home: string, user: string): string | null {
  const first = value.trim().split(/\s+/)[0] ?? "";
  if (first.toLowerCase() === "none") return null;
  const raw = first === "" ? ".ssh/authorized_keys" : first;
  const expanded = raw.replace(/%([%hu])/g, (_, t: string) => (t === "%" ? "%" : t === "h" ? home : user));
  if (expanded.startsWith("/")) return expanded;
  if (!home.startsWith("/")) return null;
  return `${home.replace(/\/$/, "")}/${expanded}`;
}

/**
 * The receiver a relay key is forced to run (authorized_keys `command=`): it accepts only `put <part> <offset>`
 * (append to that part's partial file, which must hold exactly <offset> bytes) and `hash <part>` (hash the stream,
 * store nothing: the benchmark's discard mode). Part numbers map to paths fixed here, so a source can write nowhere else.
 */
export function receiverScript(remoteDir: string, runId: string, paths: string[], hasher: Hasher): string {
  const cases = paths.map((p, i) => `  ${i}) f=${shQuote(partialPath(remoteDir, p))};;`).join("\n");
  return `#!/bin/sh
# omstack bundle relay receiver for run ${runId}: the only command this run's relay key may run here. Removed after the run.
set -f
set -- $SSH_ORIGINAL_COMMAND
refuse() { echo "omstack relay: $1" >&2; exit 64; }
[ $# -ge 2 ] || refuse "refused command"
case $2 in ''|*[!0-9]*) refuse "bad part number";; esac
case $2 in
${cases}
  *) refuse "no part $2";;
esac
case $1 in
  hash) [ $# -eq 2 ] || refuse "refused command"; exec ${hashCommand(hasher)} ;;
  put) [ $# -eq 3 ] || refuse "refused command" ;;
  *) refuse "refused command" ;;
esac
case $3 in ''|*[!0-9]*) refuse "bad offset";; esac
mkdir -p "\${f%/*}" || exit 73
[ -e "$f" ] || : > "$f" || exit 73
have=$(stat -c %s "$f") || exit 73
[ "$have" -eq "$3" ] || { echo "omstack relay: $f holds $have bytes, not $3" >&2; exit 65; }
exec cat >> "$f"
`;
}

/** The authorized_keys line of one relay: only from `sourceAddress`, only the receiver, no pty, no forwarding. */
export function authorizedLine(publicKey: string, receiver: string, sourceAddress: string, marker: string): string {
  if (!SAFE_WORD.test(receiver)) throw new Error(`relay receiver path ${receiver} holds characters that cannot go into authorized_keys`);
  if (!/^[0-9A-Fa-f:.]+$/.test(sourceAddress)) throw new Error(`relay source address ${sourceAddress} is not an IP address`);
  const [type, blob] = publicKey.trim().split(/\s+/);
  if (!type || !blob) throw new Error("relay public key is not an OpenSSH public key line");
  return `from="${sourceAddress}",command="/bin/sh ${receiver}",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty,no-user-rc ${type} ${blob} ${marker}`;
}

/** Replaces this run's line in an authorized_keys file (atomically, keeping mode and owner), or only removes it when line is null. */
export function authorizedEditScript(file: string, marker: string, line: string | null): string {
  const f = shQuote(file);
  const t = shQuote(`${file}.${marker}.tmp`);
  const add = line === null ? "" : `; printf '%s\\n' ${shQuote(line)}`;
  return [
    `[ -e ${f} ] || { ${line === null ? "exit 0" : `umask 077; mkdir -p "$(dirname ${f})" && : > ${f}`}; }`,
    `{ grep -v -F -e ${shQuote(marker)} ${f}${add}; true; } > ${t} && chmod --reference=${f} ${t} && chown --reference=${f} ${t} && mv -f ${t} ${f}`,
  ].join("\n");
}

/** known_hosts lines a source checks targets against: the installer's pinned key of each target. */
export function knownHostsLines(targets: { address: string; port: number; hostKeyLine: string }[]): string {
  return targets
    .map((t) => {
      const [type, blob] = t.hostKeyLine.trim().split(/\s+/);
      return `${t.port === 22 ? t.address : `[${t.address}]:${t.port}`} ${type} ${blob}\n`;
    })
    .join("");
}

/** The source's side of one relay: stream its copy from `offset` into the target's receiver over the cluster network. */
export function sendCommand(o: {
  final: string;
  offset: number;
  key: string;
  knownHosts: string;
  target: { address: string; port: number; user: string };
  request: string;
}): string {
  const ssh = [
    "ssh -F /dev/null -T -x",
    `-i ${shQuote(o.key)}`,
    "-o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes",
    `-o UserKnownHostsFile=${shQuote(o.knownHosts)} -o GlobalKnownHostsFile=/dev/null`,
    "-o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o LogLevel=ERROR",
    // AES-GCM first: with AES-NI it costs a fraction of chacha20's CPU per byte; OpenSSH's defaults follow
    "-o Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr",
    `-p ${o.target.port} -l ${shQuote(o.target.user)} ${shQuote(o.target.address)}`,
    shQuote(o.request),
  ].join(" ");
  return `tail -c +${o.offset + 1} ${shQuote(o.final)} | ${ssh}`;
}
