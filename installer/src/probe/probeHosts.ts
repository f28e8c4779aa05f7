// Probes many hosts at once: one session per host, the fixed read-only script, captures parsed into HostFacts.
// A host that fails is reported with its reason; the others complete.
import { OmstackError, isOmstackError } from "../errors.js";
import { CAPTURES, type CaptureSpec } from "./captures.js";
import { unreachableFacts, type HostFacts } from "./facts.js";
import { parseCaptures } from "./parse/index.js";
import type { HostConnector, HostSession } from "./ports.js";
import { buildProbeScript, newNonce, splitProbeOutput, type CaptureOutcome } from "./script.js";

/** Typed progress events, rendered as live lines (TTY) or plain lines (pipes, CI). */
export type ProbeEvent =
  | { type: "host-started"; host: string }
  | { type: "host-connected"; host: string; ms: number }
  | { type: "host-done"; host: string; ms: number; facts: HostFacts }
  | { type: "host-failed"; host: string; ms: number; error: OmstackError };

/** Everything learned about one host: its facts, the raw captures, and the error when it failed. */
export interface ProbeResult {
  host: string;
  facts: HostFacts;
  outcomes: CaptureOutcome[];
  error: OmstackError | null;
}

export interface ProbeOptions {
  concurrency: number;
  scriptTimeoutMs: number;
  commandTimeoutSec: number;
  random: (n: number) => Buffer;
  now: () => number;
  onEvent?: (e: ProbeEvent) => void;
  captures?: readonly CaptureSpec[];
}

/** Turns captured outcomes into facts; missing tools are facts, failures and timeouts are warnings. */
export function factsFromOutcomes(host: string, outcomes: CaptureOutcome[]): HostFacts {
  const captures = new Map<string, string>();
  for (const o of outcomes) if (o.status === "ok") captures.set(o.name, o.stdout.toString("utf8"));
  const facts = parseCaptures(host, captures);
  const toolOf = (name: string) => CAPTURES.find((c) => c.name === name)?.tool ?? name;
  facts.missingTools = [...new Set(outcomes.filter((o) => o.status === "missing-tool").map((o) => toolOf(o.name)))];
  for (const o of outcomes) {
    if (o.status === "timeout") facts.warnings.push({ capture: o.name, message: `timed out on the host (killed); the facts it would give are missing` });
    else if (o.status === "failed") facts.warnings.push({ capture: o.name, message: `exited ${o.exitCode}${o.stderr ? `: ${o.stderr.trim().split("\n").slice(-1)[0]}` : ""}` });
  }
  return facts;
}

async function probeOne<T extends { name: string }>(target: T, connector: HostConnector<T>, opts: ProbeOptions): Promise<ProbeResult> {
  const start = opts.now();
  opts.onEvent?.({ type: "host-started", host: target.name });
  let session: HostSession | null = null;
  try {
    session = await connector.open(target);
    opts.onEvent?.({ type: "host-connected", host: target.name, ms: opts.now() - start });
    const specs = opts.captures ?? CAPTURES;
    const nonce = newNonce(opts.random);
    const res = await session.runScript(buildProbeScript(specs, nonce, opts.commandTimeoutSec), opts.scriptTimeoutMs);
    const outcomes = splitProbeOutput(res.stdout, res.stderr, nonce, specs);
    if (outcomes.length === 0) {
      throw new OmstackError("E_PROBE_OUTPUT", `${target.name}: the probe script printed nothing readable (exit ${res.exitCode ?? res.signal})`, {
        remedy: "the login shell may be restricted or print a banner on stdout; check that `ssh HOST sh -s` runs a POSIX shell",
        details: { stderr: res.stderr.toString("utf8").slice(-2000) },
      });
    }
    const facts = factsFromOutcomes(target.name, outcomes);
    facts.probedAt = new Date(start).toISOString();
    facts.durationMs = opts.now() - start;
    opts.onEvent?.({ type: "host-done", host: target.name, ms: facts.durationMs, facts });
    return { host: target.name, facts, outcomes, error: null };
  } catch (e) {
    const error = isOmstackError(e) ? e : new OmstackError("E_PROBE_FAILED", `${target.name}: ${(e as Error).message}`, { cause: e });
    const facts = unreachableFacts(target.name, error.message, error.code);
    facts.durationMs = opts.now() - start;
    opts.onEvent?.({ type: "host-failed", host: target.name, ms: facts.durationMs, error });
    return { host: target.name, facts, outcomes: [], error };
  } finally {
    session?.close();
  }
}

/** Probes all targets with at most `concurrency` in flight; results come back in input order. */
export async function probeHosts<T extends { name: string }>(targets: readonly T[], connector: HostConnector<T>, opts: ProbeOptions): Promise<ProbeResult[]> {
  const results: ProbeResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      results[i] = await probeOne(targets[i]!, connector, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, targets.length)) }, worker));
  return results;
}
