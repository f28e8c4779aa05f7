// Where `omstack install --yes` shows the executor's events: a live ink view on a terminal (tui/ProgressView.tsx), one
// plain line per event otherwise (no TTY, -o json|yaml, --no-tui, TERM=dumb). Both come from the same events and both
// turn Ctrl-C into an abort: nothing new starts, running steps finish, the run ends "interrupted" (resumable).
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { formatEvent, type ExecutorEvent } from "../executor/events.js";
import type { OutputFormat } from "./runtime.js";

/** What decides the view: a live view needs a terminal on stdout (ink draws there), table output and no --no-tui. */
export interface ProgressChoice {
  stdoutIsTTY: boolean;
  output: OutputFormat;
  /** false with --no-tui (commander's negated option). */
  tui: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** True when the live view is wanted; a dumb terminal cannot redraw in place, so it gets plain lines too. */
export function wantsLiveProgress(c: ProgressChoice): boolean {
  return c.stdoutIsTTY && c.output === "table" && c.tui && c.env.TERM !== "dumb";
}

/** The executor's side of a progress display. */
export interface Progress {
  /** Aborted by Ctrl-C (or SIGINT): pass it to execute(). */
  readonly signal: AbortSignal;
  onEvent(e: ExecutorEvent): void;
  /** Ends the display (idempotent); the live view's last frame stays, then a dry run's changes and failures in full. */
  close(): Promise<void>;
}

/** Options for startProgress. */
export interface ProgressOptions {
  live: boolean;
  ascii: boolean;
  /** Hosts in plan order (rows before any event arrives). */
  hosts: string[];
  /** The command's full-detail log (shown by the live view). */
  logPath: string;
  /** A plain line to the operator (stderr). */
  note: (line: string) => void;
}

/** The last `lines` lines of a host log, read from its end (at most 16 KiB); [] when unreadable. */
export function readLogTail(path: string, lines: number): string[] {
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const len = Math.min(size, 16 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8").split("\n").filter(Boolean).slice(-lines);
  } catch {
    return [];
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** SIGINT turns into the abort once; the second one is left to Node's default (exit at once). */
function onFirstSigint(abort: () => void): () => void {
  const handler = () => {
    process.off("SIGINT", handler);
    abort();
  };
  process.on("SIGINT", handler);
  return () => void process.off("SIGINT", handler);
}

/** Plain lines: formatEvent per event, and Ctrl-C (SIGINT) as an abort with a line saying so. */
function plainProgress(o: ProgressOptions): Progress {
  const controller = new AbortController();
  const release = onFirstSigint(() => {
    o.note("stopping: the running steps finish, nothing new starts (Ctrl-C again quits at once); the install stays resumable");
    controller.abort();
  });
  return {
    signal: controller.signal,
    onEvent: (e) => {
      for (const line of formatEvent(e)) o.note(line);
    },
    close: async () => release(),
  };
}

/** Starts the display the options ask for. */
export async function startProgress(o: ProgressOptions): Promise<Progress> {
  return o.live ? liveProgress(o) : plainProgress(o);
}

async function liveProgress(o: ProgressOptions): Promise<Progress> {
  // ink decides once, at import, to draw only the last frame when a CI variable is set; this is a real terminal
  process.env.CI = "false";
  const [{ render }, { createElement }, { ProgressView }, { TermProvider }, { detectTermCaps }, { applyTimedEvent, initialProgress }] = await Promise.all([
    import("ink"),
    import("react"),
    import("../tui/ProgressView.js"),
    import("../tui/theme.js"),
    import("../tui/terminal.js"),
    import("../tui/installEvents.js"),
  ]);
  const caps = detectTermCaps(process.env, { ascii: o.ascii }, true);
  const controller = new AbortController();
  let progress = initialProgress(o.hosts);
  let stopping = false;
  // printed in full after the view: what a dry run would change (its report) and each failure (the frame cuts them)
  const afterView: ExecutorEvent[] = [];
  const size = () => ({ columns: Math.max(40, process.stdout.columns || 80), rows: Math.max(10, process.stdout.rows || 24) });

  // Anything written to stderr while the view is up (a password shown once, a note) is printed above the view through
  // ink (it clears the frame, writes, redraws); written straight to the terminal, the next redraw would erase it.
  const realWrite = process.stderr.write.bind(process.stderr);
  const inkStderr = Object.create(process.stderr, { write: { value: (d: string | Uint8Array) => realWrite(d) } }) as NodeJS.WriteStream;
  let above: ((data: string) => void) | null = null;
  const waiting: string[] = [];
  const bindStderr = (w: (data: string) => void) => {
    above = w;
    for (const d of waiting.splice(0)) w(d);
  };

  let quit = false;
  const interrupt = () => {
    if (stopping) {
      // second Ctrl-C: give the terminal back, then leave as Node does on SIGINT (a crash the next run resumes from)
      quit = true;
      void close().then(() => {
        release();
        process.kill(process.pid, "SIGINT");
      });
      return;
    }
    stopping = true;
    controller.abort();
    draw();
  };
  const release = onFirstSigint(interrupt);

  const view = () =>
    createElement(
      TermProvider,
      { value: { ...caps, ...size() } },
      createElement(ProgressView, { progress, stopping, logPath: o.logPath, onInterrupt: interrupt, logTail: readLogTail, bindStderr }),
    );
  const app = render(view(), { exitOnCtrlC: false, patchConsole: false, stderr: inkStderr });
  const draw = () => app.rerender(view());
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (above) above(text);
    else waiting.push(text);
    const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stderr.write;
  const onResize = () => draw();
  process.stdout.on("resize", onResize);

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      process.stdout.off("resize", onResize);
      draw();
      app.unmount();
      await app.waitUntilExit();
      process.stderr.write = realWrite as typeof process.stderr.write;
      for (const d of waiting.splice(0)) realWrite(d);
      if (!quit) release();
      for (const e of afterView) for (const line of formatEvent(e)) o.note(line);
    })());

  return {
    signal: controller.signal,
    onEvent: (e) => {
      progress = applyTimedEvent(progress, { e, at: Date.now() });
      if (e.type === "step-failed" || e.type === "step-planned") afterView.push(e);
      draw();
    },
    close,
  };
}
