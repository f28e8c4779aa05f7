// What the executor needs from the outside world: per-host contexts and a log sink. Adapters and fakes implement these.
import type { ReadCtx, WriteCtx } from "../steps/types.js";
import type { HostSession, ScriptResult } from "../probe/ports.js";

/** Where a step's context sends its log lines and operator notes. */
export interface StepIo {
  log(line: string): void;
  note(message: string): void;
}

/** One open connection to a host, able to build contexts for one step at a time. */
export interface HostHandle {
  /** A context with read operations only (check, verify, describe, dry-run). */
  reader(io: StepIo): ReadCtx;
  /** A context that may write (apply, rollback, host lock); never asked for in a dry-run. */
  writer(io: StepIo): WriteCtx;
  close(): void;
}

/** Opens hosts by inventory name; throws OmstackError (E_SSH_*) when one cannot be reached. */
export interface HostProvider {
  open(host: string): Promise<HostHandle>;
}

/** A session that can also run one command with data streamed to its stdin (SSH sessions; local falls back). */
export interface StreamingSession extends HostSession {
  exec(command: string, opts: { stdin?: Buffer | NodeJS.ReadableStream; timeoutMs: number }): Promise<ScriptResult>;
}

/** Per-run, per-host log files: the executor writes every command and result there and names the file in events. */
export interface RunLogs {
  pathFor(host: string): string;
  write(host: string, line: string): void;
  close(): void;
}

/** True when a session offers streamed stdin. */
export function isStreaming(s: HostSession): s is StreamingSession {
  return typeof (s as Partial<StreamingSession>).exec === "function";
}
