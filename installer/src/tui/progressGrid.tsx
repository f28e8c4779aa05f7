// The install progress body shared by the wizard's Install screen and `omstack install --yes` on a terminal: the
// running step, counts and elapsed time, a steps × hosts grid with each host's state, and a failing host's error,
// fix and last log lines. It draws exactly the lines it is given room for, so callers can fit 80×24.
import { useEffect, useState, type ReactNode } from "react";
import { Box } from "ink";
import { cellKey, hostState, isSettled, pairCounts, type CellState, type HostState, type InstallProgress } from "./installEvents.js";
import { wrapText } from "./terminal.js";
import { glyphs, T, useTerm, type Tone } from "./theme.js";
import { col } from "./widgets.js";

/** Reads the last lines of a host's log file (injected: the TUI opens no file itself). */
export type LogTailReader = (path: string, lines: number) => string[];

/** Props: the folded progress, the clock, the lines available, which failing host to detail, and a log reader. */
export interface ProgressGridProps {
  progress: InstallProgress;
  /** Now, on the same clock as the timed events (Date.now in the CLI). */
  now: number;
  /** Lines this body may use; it never draws more. */
  height: number;
  /** Index into the failing hosts (Up/Down). */
  focus?: number;
  logTail?: LogTailReader;
  /** The operator asked to stop (Ctrl-C): the headline says that running steps finish first. */
  stopping?: boolean;
  /** Append the run's log folder to the counts line (default true; the standalone view gives it a line of its own). */
  logDirInline?: boolean;
}

/** The clock the views show elapsed time by: re-renders every `everyMs` while `running`. */
export function useClock(clock: () => number, running: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(clock);
  useEffect(() => {
    setNow(clock());
    if (!running) return;
    const t = setInterval(() => setNow(clock()), everyMs);
    return () => clearInterval(t);
  }, [running]);
  return now;
}

/** Elapsed time as an operator reads it: "8 s", "1m 05s", "1h 02m". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** The glyph of one grid cell. */
export function cellGlyph(s: CellState | undefined, g: ReturnType<typeof glyphs>): string {
  switch (s) {
    case "running":
      return g.running;
    case "applied":
    case "done":
      return g.done;
    case "skipped":
    case "would-skip":
      return g.skip;
    case "would-apply":
      return g.plan;
    case "failed":
      return g.failCell;
    case "blocked":
    case "rolled-back":
      return g.blocked;
    case "none":
      return " ";
    default:
      return g.pending;
  }
}

function stateText(s: HostState, now: number, dryRun: boolean, g: ReturnType<typeof glyphs>): { text: string; tone: Tone } {
  switch (s.kind) {
    case "running":
      return { text: `${g.running} ${s.title}${s.since !== null ? ` ${formatElapsed(now - s.since)}` : ""}${s.more > 0 ? ` +${s.more}` : ""}`, tone: "accent" };
    case "failed":
      return { text: `${g.failCell} FAILED ${s.stepId}`, tone: "bad" };
    case "blocked":
      return { text: `${g.blocked} stopped (earlier failure)`, tone: "warn" };
    case "done":
      return { text: `${g.done} ${dryRun ? "planned" : "done"}`, tone: "ok" };
    case "waiting":
      return { text: "waiting", tone: "dim" };
    case "pending":
      return { text: "pending", tone: "dim" };
  }
}

/** Strips the ISO timestamp the run logs put before each line. */
function withoutStamp(line: string): string {
  return line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, "");
}

/** The progress body. */
export function ProgressGrid(props: ProgressGridProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const p = props.progress;
  const failedHosts = [...new Set(p.failures.map((f) => f.host))];
  const focused = failedHosts[Math.min(Math.max(0, props.focus ?? 0), failedHosts.length - 1)];
  const failure = p.failures.find((f) => f.host === focused) ?? null;

  // the failing host's detail: error, fix, the last lines (command output, else its log file, else its notes), log
  const detail: { text: string; tone: Tone; bold?: boolean }[] = [];
  if (failure) {
    const message = failure.error.message.startsWith(`${failure.host}: `) ? failure.error.message.slice(failure.host.length + 2) : failure.error.message;
    detail.push({ text: `${failure.host}: ${failure.stepId}: ${message} [${failure.error.code}]`, tone: "bad", bold: true });
    if (failure.error.remedy) detail.push({ text: `  fix: ${wrapText(failure.error.remedy, term.columns - 7)[0] ?? ""}`, tone: "accent" });
    const fromOutput = (failure.error.outputTail ?? "").split("\n").filter(Boolean);
    // the host log interleaves other work (locks, later steps): keep the failing step's own lines
    const fromLog =
      fromOutput.length === 0 && failure.logPath && props.logTail
        ? props.logTail(failure.logPath, 60).map(withoutStamp).filter((l) => l.startsWith(`[${failure.stepId}] `)).map((l) => l.slice(failure.stepId.length + 3))
        : [];
    const tail = fromOutput.length > 0 ? fromOutput : fromLog.length > 0 ? fromLog : (p.notes[failure.host] ?? []);
    for (const l of tail.slice(-4)) detail.push({ text: `  | ${l}`, tone: "dim" });
    if (failure.logPath) detail.push({ text: `  log: ${failure.logPath}`, tone: "dim" });
    if (failedHosts.length > 1) detail.push({ text: `  (${failedHosts.length} hosts failed; Up/Down shows the others)`, tone: "dim" });
  }

  const fixed = 4; // headline, counts, grid header, legend
  const detailRows = Math.min(detail.length, Math.max(0, props.height - fixed - 2));
  const gridRoom = Math.max(1, props.height - fixed - detailRows);

  const hostW = Math.min(14, Math.max(6, ...p.hosts.map((h) => h.length)));
  const room = Math.max(4, term.columns - hostW - 24);
  const total = p.steps.length;
  const firstOpen = Math.max(0, p.steps.findIndex((s) => p.hosts.some((h) => !isSettled(p.cells[cellKey(s.id, h)]))));
  const from = total <= room ? 0 : Math.min(Math.max(0, firstOpen - Math.floor(room / 3)), total - room);
  const shownSteps = p.steps.slice(from, from + room);
  const { settled: settledCount, total: cellsTotal } = pairCounts(p);

  // more hosts than rows: the failing and running ones first, then plan order; one row says how many are not shown
  const states = new Map(p.hosts.map((h) => [h, hostState(p, h)]));
  const clipped = p.hosts.length > gridRoom;
  const rank = (h: string) => ({ failed: 0, running: 1, blocked: 2, waiting: 3, pending: 4, done: 5 })[states.get(h)!.kind];
  const ordered = clipped ? [...p.hosts].sort((a, b) => rank(a) - rank(b)) : p.hosts;
  const hostRows = ordered.slice(0, clipped ? gridRoom - 1 : gridRoom);
  const hidden = p.hosts.filter((h) => !hostRows.includes(h));

  const cur = p.running[0];
  const verb = p.dryRun ? "Dry run" : "Install";
  const elapsed = p.finished && p.durationMs !== null ? p.durationMs : p.startedAt !== null ? props.now - p.startedAt : null;
  const headline = p.finished
    ? p.finished === "succeeded"
      ? `${verb} finished in ${formatElapsed(p.durationMs ?? 0)}`
      : p.finished === "interrupted"
        ? `${verb} stopped before every step ran (resumable)`
        : `${verb} failed: ${p.failures.length} step(s) failed`
    : props.stopping
      ? `Stopping: ${p.running.length} running step(s) finish first, nothing new starts`
      : cur
        ? `Now: ${cur.title} on ${cur.host}${p.running.length > 1 ? ` (+${p.running.length - 1} more)` : ""}`
        : total === 0
          ? "Starting ..."
          : "Working ...";
  const headTone: Tone = p.finished === "failed" ? "bad" : p.finished === "succeeded" ? "ok" : p.finished === "interrupted" || props.stopping ? "warn" : "accent";
  return (
    <Box flexDirection="column">
      <T bold tone={headTone}>{`${p.dryRun ? "[DRY RUN: nothing is changed] " : ""}${headline}`}</T>
      <T>{`${settledCount}/${cellsTotal} step-host pairs done; steps ${total === 0 ? 0 : from + 1}-${from + shownSteps.length} of ${total}${elapsed !== null ? `; elapsed ${formatElapsed(elapsed)}` : ""}${p.logDir && props.logDirInline !== false ? `; logs: ${p.logDir}` : ""}`}</T>
      <T tone="dim">{`${col("host", hostW)}  ${shownSteps.map((_, i) => String((from + i + 1) % 10)).join("").padEnd(Math.min(room, total))}  state`}</T>
      {hostRows.map((h) => {
        const cells = shownSteps.map((s) => cellGlyph(p.cells[cellKey(s.id, h)], g)).join("");
        const st = stateText(states.get(h)!, props.now, p.dryRun, g);
        return (
          <Box key={h}>
            <T tone={st.tone === "bad" ? "bad" : "normal"} max={hostW + 2 + cells.length + 2}>{`${col(h, hostW)}  ${cells}  `}</T>
            <T tone={st.tone} max={Math.max(1, term.columns - hostW - cells.length - 4)}>{st.text}</T>
          </Box>
        );
      })}
      {hidden.length > 0 ? <T tone="dim">{`... ${hidden.length} more hosts (${hidden.filter((h) => states.get(h)!.kind === "done").length} done)`}</T> : null}
      <T tone="dim">{`${g.done} done  ${g.skip} skipped  ${g.running} running  ${g.failCell} failed  ${g.blocked} stopped  ${g.plan} would apply  ${g.pending} pending`}</T>
      {detail.slice(0, detailRows).map((d, i) => (
        <T key={`d${i}`} tone={d.tone} bold={d.bold ?? false}>{d.text}</T>
      ))}
    </Box>
  );
}
