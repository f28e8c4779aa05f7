// Builds the one read-only shell script the probe runs per host, and splits its output back into captures.
// One script over one channel is the cheapest way to run ~25 commands (measured against one channel per command).
import type { CaptureSpec } from "./captures.js";

/** How one capture's command ended on the host. */
export interface CaptureOutcome {
  name: string;
  status: "ok" | "failed" | "missing-tool" | "timeout";
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
}

function shellQuote(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

/** The script: each command between nonce markers on stdout and stderr, killed after `timeoutSec`. */
export function buildProbeScript(captures: readonly CaptureSpec[], nonce: string, timeoutSec: number): string {
  const lines = [
    "export LC_ALL=C LANG=C",
    'PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/cuda/bin"; export PATH',
    `N=${nonce}`,
    `if command -v timeout >/dev/null 2>&1; then T="timeout -k 2 ${timeoutSec}"; else T=""; fi`,
    "rc=0",
    // Marker lines go on both streams so each stream can be split on its own.
    // run NAME TOOL HANG COMMAND: HANG=1 runs under timeout; others run in a subshell (one fork fewer).
    'run() { printf "%s:B:%s\\n" "$N" "$1"; printf "%s:B:%s\\n" "$N" "$1" >&2; if [ -n "$2" ] && ! command -v "$2" >/dev/null 2>&1; then rc=127; elif [ "$3" = 1 ]; then $T sh -c "$4" </dev/null; rc=$?; else (eval "$4") </dev/null; rc=$?; fi; printf "\\n%s:E:%s:%s\\n" "$N" "$1" "$rc"; printf "\\n%s:E:%s:%s\\n" "$N" "$1" "$rc" >&2; }',
  ];
  for (const c of captures) {
    const call = `run ${shellQuote(c.name)} ${shellQuote(c.tool ?? "")} ${c.mayHang ? 1 : 0} ${shellQuote(c.command)}`;
    // A fallback runs only when the capture before it failed ($rc is still that capture's status).
    lines.push(c.fallback ? `[ "$rc" = 0 ] || ${call}` : call);
  }
  lines.push("exit 0");
  return lines.join("\n") + "\n";
}

/** A fresh marker the host's output cannot predict, so no output can forge a section boundary. */
export function newNonce(random: (n: number) => Buffer): string {
  return "OMSTACK" + random(12).toString("hex");
}

interface Section {
  body: Buffer;
  exitCode: number | null;
}

function splitStream(buf: Buffer, nonce: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  const begin = Buffer.from(`${nonce}:B:`);
  let pos = 0;
  while (pos < buf.length) {
    const b = buf.indexOf(begin, pos);
    if (b < 0) break;
    const nameEnd = buf.indexOf(0x0a, b + begin.length);
    if (nameEnd < 0) break;
    const name = buf.subarray(b + begin.length, nameEnd).toString("utf8");
    const endMarker = Buffer.from(`\n${nonce}:E:${name}:`);
    const e = buf.indexOf(endMarker, nameEnd + 1);
    if (e < 0) {
      // Cut short (killed session, output limit): keep what arrived, with no exit code.
      sections.set(name, { body: buf.subarray(nameEnd + 1), exitCode: null });
      break;
    }
    const rcEnd = buf.indexOf(0x0a, e + endMarker.length);
    const rcText = buf.subarray(e + endMarker.length, rcEnd < 0 ? buf.length : rcEnd).toString("latin1");
    const rc = /^\d+$/.test(rcText) ? Number(rcText) : null;
    sections.set(name, { body: buf.subarray(nameEnd + 1, e), exitCode: rc });
    pos = rcEnd < 0 ? buf.length : rcEnd + 1;
  }
  return sections;
}

/** Splits the script's stdout and stderr into one outcome per capture, in the order of `captures`. */
export function splitProbeOutput(stdout: Buffer, stderr: Buffer, nonce: string, captures: readonly CaptureSpec[]): CaptureOutcome[] {
  const out = splitStream(stdout, nonce);
  const err = splitStream(stderr, nonce);
  const result: CaptureOutcome[] = [];
  for (const c of captures) {
    const o = out.get(c.name);
    if (!o) continue;
    const e = err.get(c.name);
    const stderrText = e ? e.body.toString("utf8").slice(0, 4000) : "";
    const rc = o.exitCode;
    let status: CaptureOutcome["status"];
    if (rc === 0) status = "ok";
    else if (rc === 124 || rc === 137 || rc === null) status = "timeout";
    else if (rc === 127 || (c.absentWhen?.test(stderrText) ?? false) || (c.tool === null && /No such file or directory/.test(stderrText) && o.body.length === 0)) status = "missing-tool";
    else status = "failed";
    result.push({ name: c.name, status, exitCode: rc, stdout: o.body, stderr: stderrText });
  }
  return result;
}
