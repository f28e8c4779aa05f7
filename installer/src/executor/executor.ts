// The run loop: steps in order, each over its hosts with bounded concurrency, journaled, resumable, with a dry-run that only reads.
import { performance } from "node:perf_hooks";
import { AggregateOmstackError, CommandError, OmstackError, isOmstackError } from "../errors.js";
import { Journal } from "../state/journal.js";
import { HOST_LOCK_DIR, acquireHostLock, releaseHostLock, type HostLockOwner } from "../state/hostLock.js";
import { FileRunLogs, MemoryRunLogs } from "../state/runLogs.js";
import { CLUSTER_TARGET, type ReadCtx, type Step, type StepReadCtx, type StepWriteCtx, type WriteCtx } from "../steps/types.js";
import type { Plan } from "../plan/types.js";
import { blockingFailures, journalVerdict } from "./decide.js";
import type { ExecutorEvent, FailureInfo } from "./events.js";
import { inputsHash } from "./hash.js";
import { forEachLimit } from "./pool.js";
import type { HostHandle, HostProvider, RunLogs, StepIo } from "./ports.js";

/** Everything one execution needs; only `steps`, `plan`, `hosts` and `stateDir` are required. */
export interface ExecuteOptions<P = Plan> {
  steps: readonly Step<P>[];
  plan: P;
  hosts: HostProvider;
  /** Journal, logs and the installer's identity for host locks live here (default /var/lib/omstack). */
  stateDir: string;
  /** Describe only: hosts are read (check), never written; the journal is read, never written. */
  dryRun?: boolean;
  /** Allow a new run although earlier runs left failed steps. */
  retryFailed?: boolean;
  /** Re-apply this step and every later one even where the journal and check say done. */
  fromStep?: string;
  /** Hosts worked on at once per step (default 10). */
  concurrency?: number;
  /** The node "cluster" steps run on (usually the first control-plane node). */
  clusterHost?: string;
  onEvent?: (e: ExecutorEvent) => void;
  /** Stops starting new step × host work; running work finishes; the run ends "interrupted". */
  signal?: AbortSignal;
  /** Where the lock directory lives on a host (default /var/lib/omstack/lock); false = no host locks. */
  hostLockDir?: ((host: string) => string) | false;
  /** Options recorded with the run (the CLI flags), for the history. */
  recordOptions?: Record<string, unknown>;
  planHash?: string | null;
}

/** Outcome of one step on one host in this execution. */
export interface StepOutcome {
  stepId: string;
  host: string;
  status: "verified" | "skipped" | "failed" | "blocked" | "planned-apply" | "planned-skip" | "not-started";
}

/** What an execution returns; `error` aggregates every failure (null when none). */
export interface ExecuteResult {
  runId: number | null;
  status: "succeeded" | "failed" | "interrupted";
  outcomes: StepOutcome[];
  error: OmstackError | null;
  logDir: string | null;
}

/** Turns anything thrown by a step into the event's failure record. */
export function failureInfo(e: unknown): FailureInfo {
  if (e instanceof CommandError) return { code: e.code, message: e.message, remedy: e.remedy ?? null, command: e.command, exitStatus: e.exitStatus, outputTail: e.outputTail || null };
  if (isOmstackError(e)) return { code: e.code, message: e.message, remedy: e.remedy ?? null, command: null, exitStatus: null, outputTail: null };
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: "E_INTERNAL", message: `a step failed with an unexpected error: ${err.message}`, remedy: "this is a bug; report it with the log file", command: null, exitStatus: null, outputTail: err.stack ?? null };
}

function asOmstack(e: unknown, host: string): OmstackError {
  if (isOmstackError(e)) return e;
  const f = failureInfo(e);
  return new OmstackError("E_INTERNAL", `${host}: ${f.message}`, { host, remedy: f.remedy ?? undefined, cause: e });
}

/** Runs the steps over their hosts; throws only for problems before any work starts (lock held, bad --from-step, earlier failures). */
export async function execute<P = Plan>(opts: ExecuteOptions<P>): Promise<ExecuteResult> {
  const emit = (e: ExecutorEvent) => opts.onEvent?.(e);
  const dryRun = opts.dryRun ?? false;
  const concurrency = Math.max(1, opts.concurrency ?? 10);
  const started = performance.now();

  const fromIndex = opts.fromStep === undefined ? -1 : opts.steps.findIndex((s) => s.id === opts.fromStep);
  if (opts.fromStep !== undefined && fromIndex < 0) {
    throw new OmstackError("E_INSTALL_FROM_STEP", `--from-step ${opts.fromStep}: no such step in this install; the steps are: ${opts.steps.map((s) => s.id).join(", ")}`, {
      remedy: "pass one of the step ids listed (omstack install --dry-run shows them in order)",
    });
  }
  const seen = new Set<string>();
  for (const s of opts.steps) {
    if (seen.has(s.id)) throw new OmstackError("E_INTERNAL", `two steps share the id ${s.id}`, { remedy: "this is a bug; report it" });
    seen.add(s.id);
  }

  // Targets first: a step whose targets cannot be computed is a bug, found before anything changes.
  const targets = opts.steps.map((s) => {
    const t = s.targets(opts.plan);
    return t === CLUSTER_TARGET ? [CLUSTER_TARGET] : [...t];
  });

  const journal = dryRun ? Journal.openIfExists(opts.stateDir) : Journal.open(opts.stateDir);
  let runId: number | null = null;
  let logs: RunLogs = new MemoryRunLogs();
  const handles = new Map<string, Promise<HostHandle>>();
  const locks = new Map<string, { dir: string; owner: Promise<HostLockOwner> }>();
  try {
    if (!dryRun) {
      journal!.acquireLock("install");
      const rows = opts.steps.flatMap((s, i) => targets[i]!.map((h) => journal!.lastOutcome(s.id, h))).filter((r) => r !== null);
      const blocking = blockingFailures(rows);
      if (blocking.length > 0 && !opts.retryFailed && fromIndex < 0) {
        throw new OmstackError(
          "E_INSTALL_PREVIOUS_FAILED",
          `the last run left ${blocking.length} failed step(s): ${blocking.map((r) => `${r.host}: ${r.stepId} (${r.errorCode}: ${r.message ?? ""})`).join("; ")}`,
          { remedy: "read the failure and its log, fix the cause, then run again with --retry-failed (or --from-step ID to redo from a step)" },
        );
      }
      runId = journal!.startRun({ mode: "apply", options: opts.recordOptions ?? {}, planHash: opts.planHash ?? null });
      const fileLogs = new FileRunLogs(opts.stateDir, runId);
      logs = fileLogs;
      journal!.setRunLogDir(runId, fileLogs.dir);
    }
    const logDir = logs instanceof FileRunLogs ? logs.dir : null;
    // each step's hosts up front, so a progress view counts only real step × host pairs from the first event
    const hostsOf = (i: number) => targets[i]!.map((h) => (h === CLUSTER_TARGET ? (opts.clusterHost ?? h) : h));
    emit({ type: "run-started", runId, dryRun, steps: opts.steps.map((s, i) => ({ id: s.id, title: s.title, hosts: hostsOf(i) })), logDir });

    const nodeOf = (host: string): string => {
      if (host !== CLUSTER_TARGET) return host;
      if (!opts.clusterHost) throw new OmstackError("E_STEP_CONFIG", "a cluster step needs a node to run on, and none was chosen", { remedy: "this is a bug in the install wiring: pass clusterHost (the first control-plane node)" });
      return opts.clusterHost;
    };
    const openHandle = (node: string) => {
      let p = handles.get(node);
      if (!p) {
        p = opts.hosts.open(node);
        p.catch(() => undefined);
        handles.set(node, p);
      }
      return p;
    };
    const lockHost = (node: string, handle: HostHandle): Promise<HostLockOwner> | null => {
      if (opts.hostLockDir === false || runId === null) return null;
      let entry = locks.get(node);
      if (!entry) {
        const dir = opts.hostLockDir ? opts.hostLockDir(node) : HOST_LOCK_DIR;
        const io: StepIo = { log: (l) => logs.write(node, `[host-lock] ${l}`), note: (m) => emit({ type: "step-note", stepId: "host-lock", host: node, message: m }) };
        const owner = acquireHostLock(handle.writer(io), { stateDir: opts.stateDir, runId }, dir);
        owner.catch(() => undefined);
        locks.set(node, (entry = { dir, owner }));
      }
      return entry.owner;
    };

    // Another host of the install, for a step that needs it (a join reads the control plane); logged in the step's host log.
    const peerIo = (stepId: string, logHost: string, peer: string): StepIo => ({
      log: (l) => logs.write(logHost, `[${stepId}] (${peer}) ${l}`),
      note: (m) => emit({ type: "step-note", stepId, host: peer, message: m }),
    });
    const stepReader = (base: ReadCtx, stepId: string, logHost: string): StepReadCtx =>
      Object.freeze({ ...base, peer: async (peer: string) => (await openHandle(peer)).reader(peerIo(stepId, logHost, peer)) });
    const stepWriter = (base: WriteCtx, stepId: string, logHost: string): StepWriteCtx =>
      Object.freeze({
        ...base,
        peer: async (peer: string) => {
          const h = await openHandle(peer);
          const lock = lockHost(peer, h);
          if (lock) await lock;
          return h.writer(peerIo(stepId, logHost, peer));
        },
      });

    const failedHosts = new Set<string>();
    const failures: { stepId: string; host: string; error: OmstackError }[] = [];
    const outcomes: StepOutcome[] = [];
    let interrupted = false;

    for (const [seq, step] of opts.steps.entries()) {
      const forced = fromIndex >= 0 && seq >= fromIndex;
      await forEachLimit(targets[seq]!, concurrency, async (host) => {
        const key = { stepId: step.id, host, seq };
        if (opts.signal?.aborted) {
          interrupted = true;
          outcomes.push({ stepId: step.id, host, status: "not-started" });
          return;
        }
        const everyHost = host === CLUSTER_TARGET || step.needsEveryHost === true;
        const blockedBy = everyHost ? (failedHosts.size > 0 ? [...failedHosts].join(", ") : null) : failedHosts.has(host) ? host : null;
        if (blockedBy !== null && !dryRun) {
          const reason = `an earlier step failed on ${blockedBy}`;
          journal!.stepOutcome(runId!, key, "blocked", { inputsHash: "", durationMs: 0, message: reason });
          emit({ type: "step-blocked", stepId: step.id, host, reason });
          outcomes.push({ stepId: step.id, host, status: "blocked" });
          return;
        }
        const logPath = logs.pathFor(host);
        const io: StepIo = {
          log: (l) => logs.write(host, `[${step.id}] ${l}`),
          note: (m) => emit({ type: "step-note", stepId: step.id, host, message: m }),
        };
        const t0 = performance.now();
        let hash = "";
        let applyStarted = false;
        let handle: HostHandle | null = null;
        try {
          hash = inputsHash(step.id, step.inputs?.(host, opts.plan) ?? null);
          const node = nodeOf(host);
          handle = await openHandle(node);
          // The host lock is held from the first touch (even for steps that turn out skipped): no other installer may change what check reads.
          const lock = dryRun ? null : lockHost(node, handle);
          if (lock) await lock;
          const reader = stepReader(handle.reader(io), step.id, host);
          const prev = journal?.lastOutcome(step.id, host) ?? null;
          const verdict = journalVerdict(prev, hash, forced);
          const check = await step.check(reader);
          if (verdict.mayskip && check === "done") {
            const reason = `${verdict.reason}; check confirms`;
            io.log(`skip: ${reason}`);
            if (dryRun) {
              emit({ type: "step-planned", stepId: step.id, title: step.title, host, willApply: false, reason, lines: [] });
              outcomes.push({ stepId: step.id, host, status: "planned-skip" });
            } else {
              journal!.stepOutcome(runId!, key, "skipped", { inputsHash: hash, durationMs: performance.now() - t0, message: reason, logPath });
              emit({ type: "step-skipped", stepId: step.id, title: step.title, host, reason, logPath });
              outcomes.push({ stepId: step.id, host, status: "skipped" });
            }
            return;
          }
          const pending = check === "done" ? `${verdict.reason}; the host already looks done, applying again to be sure` : `${verdict.reason}; ${check.pending}`;
          if (dryRun) {
            emit({ type: "step-planned", stepId: step.id, title: step.title, host, willApply: true, reason: pending, lines: step.describe(reader) });
            outcomes.push({ stepId: step.id, host, status: "planned-apply" });
            return;
          }
          const attempt = journal!.stepStarted(runId!, key, hash, logPath);
          io.log(`apply (attempt ${attempt}): ${pending}`);
          emit({ type: "step-started", stepId: step.id, title: step.title, host, attempt, pending, logPath });
          applyStarted = true;
          await step.apply(stepWriter(handle.writer(io), step.id, host));
          emit({ type: "step-applied", stepId: step.id, host, durationMs: performance.now() - t0, logPath });
          await step.verify(reader);
          journal!.stepOutcome(runId!, key, "verified", { inputsHash: hash, durationMs: performance.now() - t0 });
          io.log("verified");
          emit({ type: "step-verified", stepId: step.id, host, durationMs: performance.now() - t0, logPath });
          outcomes.push({ stepId: step.id, host, status: "verified" });
        } catch (e) {
          const err = asOmstack(e, host);
          const info = failureInfo(e);
          io.log(`FAILED [${info.code}] ${info.message}${info.command ? `\n  command: ${info.command}\n  exit status: ${info.exitStatus ?? "none"}` : ""}${info.outputTail ? `\n  ${info.outputTail.replace(/\n/g, "\n  ")}` : ""}`);
          let status: "failed" | "rolled-back" = "failed";
          if (!dryRun) journal!.stepOutcome(runId!, key, "failed", { inputsHash: hash, durationMs: performance.now() - t0, errorCode: info.code, message: info.message, logPath });
          emit({ type: "step-failed", stepId: step.id, title: step.title, host, durationMs: performance.now() - t0, error: info, logPath });
          if (!dryRun && applyStarted && step.rollback && handle) {
            try {
              await step.rollback(stepWriter(handle.writer(io), step.id, host));
              status = "rolled-back";
              journal!.stepOutcome(runId!, key, "rolled-back", { inputsHash: hash, durationMs: performance.now() - t0, errorCode: info.code, message: info.message, logPath });
              emit({ type: "step-rolled-back", stepId: step.id, host, ok: true, message: null, logPath });
            } catch (re) {
              io.log(`rollback failed: ${(re as Error).message}`);
              emit({ type: "step-rolled-back", stepId: step.id, host, ok: false, message: failureInfo(re).message, logPath });
            }
          }
          io.log(status);
          failedHosts.add(host);
          failures.push({ stepId: step.id, host, error: err });
          outcomes.push({ stepId: step.id, host, status: "failed" });
        }
      });
    }

    const status: ExecuteResult["status"] = failures.length > 0 ? "failed" : interrupted ? "interrupted" : "succeeded";
    const durationMs = performance.now() - started;
    const error =
      failures.length > 0
        ? new AggregateOmstackError(
            "E_INSTALL_FAILED",
            `failed on ${new Set(failures.map((f) => f.host)).size} host(s): ${failures.map((f) => `${f.host}: ${f.stepId}`).join(", ")}`,
            failures.map((f) => (f.error.host ? f.error : new OmstackError(f.error.code, `${f.host}: ${f.stepId}: ${f.error.message}`, { host: f.host, remedy: f.error.remedy }))),
          )
        : interrupted
          ? new OmstackError("E_INSTALL_INTERRUPTED", "the install was interrupted before every step ran", { remedy: "run the same command again: it continues where it stopped" })
          : null;
    await releaseAll(handles, locks, logs, emit);
    if (runId !== null) journal!.finishRun(runId, status, durationMs);
    emit({ type: "run-finished", runId, status, durationMs, failures: failures.map((f) => ({ stepId: f.stepId, host: f.host, error: failureInfo(f.error) })) });
    return { runId, status, outcomes, error, logDir };
  } catch (e) {
    await releaseAll(handles, locks, logs, emit);
    if (runId !== null) journal?.finishRun(runId, "failed", performance.now() - started);
    throw e;
  } finally {
    logs.close();
    journal?.close();
  }
}

/** Releases host locks this run took, then closes every session; failures here are logged, never thrown. */
async function releaseAll(handles: Map<string, Promise<HostHandle>>, locks: Map<string, { dir: string; owner: Promise<HostLockOwner> }>, logs: RunLogs, emit: (e: ExecutorEvent) => void): Promise<void> {
  for (const [node, lock] of locks) {
    try {
      const owner = await lock.owner;
      const handle = await handles.get(node)!;
      const io: StepIo = { log: (l) => logs.write(node, `[host-lock] ${l}`), note: (m) => emit({ type: "step-note", stepId: "host-lock", host: node, message: m }) };
      await releaseHostLock(handle.writer(io), owner, lock.dir);
    } catch (e) {
      logs.write(node, `[host-lock] not released: ${(e as Error).message}`);
    }
  }
  locks.clear();
  for (const p of handles.values()) {
    try {
      (await p).close();
    } catch {
      /* never opened */
    }
  }
  handles.clear();
}
