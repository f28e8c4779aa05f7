// The step contract: what every install step is, and the two contexts it may touch a host through.
import type { Plan } from "../plan/types.js";

/** A host by its inventory name. */
export type HostRef = string;

/** Journal key and context host for steps that act on the cluster as a whole (run on one chosen node). */
export const CLUSTER_TARGET = "cluster";

/** Outcome of a read-only check: already in place, or what is missing (shown to the operator). */
export type CheckResult = "done" | { pending: string };

/** What `stat` tells a step about a path on the host. */
export interface FileStat {
  type: "file" | "directory" | "symlink" | "other";
  /** Permission bits, e.g. 0o644. */
  mode: number;
  size: number;
}

/** Result of a command run through WriteCtx.run. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Read-only access to one host. It has no method that changes the host, so the compiler keeps check, verify and
 * describe (and therefore --dry-run) from writing anything; the executor also hands them an object that has only these.
 */
export interface ReadCtx {
  /** The host's inventory name (for cluster steps: the node the step runs on). */
  readonly host: string;
  /** Whole file contents, or null when the path does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** readFile decoded as UTF-8. */
  readText(path: string): Promise<string | null>;
  /** Lower-case hex sha256 of the file, or null when it does not exist. */
  sha256(path: string): Promise<string | null>;
  /** Type, mode and size (symlinks followed), or null when the path does not exist. */
  stat(path: string): Promise<FileStat | null>;
  exists(path: string): Promise<boolean>;
  /** True when the running user may write the path (false on a read-only mount, e.g. /proc/sys in a container). */
  isWritable(path: string): Promise<boolean>;
  /** True when `command -v name` finds the tool. */
  commandExists(name: string): Promise<boolean>;
  /**
   * Runs a command that only reads (a listing, a status, an API GET) — for checks that no file can answer, like
   * `ctr images ls` or `kubectl get`. The step promises the command changes nothing; a non-zero exit not in
   * okExitCodes throws CommandError with the output tail.
   */
  query(command: string, opts?: { timeoutMs?: number; okExitCodes?: number[] }): Promise<CommandResult>;
  /** A warning for the operator (shown as an event and logged); not an error, changes nothing. */
  note(message: string): void;
}

/** Read and write access to one host: what apply and rollback get. Every write is logged. */
export interface WriteCtx extends ReadCtx {
  /** Writes the file atomically (temp file + rename), creating parent directories; mode defaults to 0o644. */
  writeFile(path: string, content: string | Buffer, opts?: { mode?: number }): Promise<void>;
  /** Copies a local file to the host (streamed when the session can), checks its sha256 there, then renames it into place. */
  pushFile(localPath: string, remotePath: string, opts: { sha256: string; mode?: number }): Promise<void>;
  /** Removes a file if present. */
  remove(path: string): Promise<void>;
  /**
   * Runs a shell command; a non-zero exit (not in okExitCodes) throws CommandError with the output tail.
   * `secret`: the output holds a credential (a join token, a certificate key): it is returned but never logged or
   * kept in an error. `redact`: values on the command line that must not reach the log or an error (shown as <redacted>).
   */
  run(command: string, opts?: { timeoutMs?: number; okExitCodes?: number[]; secret?: boolean; redact?: string[] }): Promise<CommandResult>;
}

/**
 * What a step's read phases get: its own host, plus read-only access to another host of the install (a worker's join
 * step reads the control plane; a cluster step reads every node). Peers are opened on demand and locked like targets.
 */
export interface StepReadCtx extends ReadCtx {
  peer(host: HostRef): Promise<ReadCtx>;
}

/** What apply and rollback get: their own host plus write access to another host of the install. */
export interface StepWriteCtx extends WriteCtx {
  peer(host: HostRef): Promise<WriteCtx>;
}

/** One install step; `id` is the journal key and must never be renamed once released. */
export interface Step<P = Plan> {
  readonly id: string;
  readonly title: string;
  /**
   * The step's outcome depends on every host of the install (labelling all nodes, waiting for all to be Ready): it is
   * blocked, not failed, when an earlier step failed on any host, so a re-run retries that cause without --retry-failed.
   */
  readonly needsEveryHost?: boolean;
  /** Hosts the step acts on ([] = nothing to do), or "cluster" for one run on the cluster node. */
  targets(plan: P): HostRef[] | typeof CLUSTER_TARGET;
  /** Everything apply depends on for this host, hashed into the journal: a change forces a new apply. */
  inputs?(host: HostRef, plan: P): unknown;
  /** Read-only: is the step's effect already in place on the host? */
  check(ctx: StepReadCtx): Promise<CheckResult>;
  /** Makes the change; must be idempotent (safe to run again after an interruption at any point). */
  apply(ctx: StepWriteCtx): Promise<void>;
  /** Post-condition after apply; throws (E_STEP_VERIFY) when it does not hold. */
  verify(ctx: StepReadCtx): Promise<void>;
  /** Undoes a partial apply; called only for a step whose apply started in this run and then failed. */
  rollback?(ctx: StepWriteCtx): Promise<void>;
  /** Dry-run lines: what apply would change on this host. */
  describe(ctx: StepReadCtx): string[];
}
