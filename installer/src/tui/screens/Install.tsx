// Install: the engine's progress as a steps × hosts grid, the step running now, a failing host's error and log tail,
// and a retry. Fed by an injected event stream; Ctrl-C is handled by the wizard (it aborts the run, which the journal
// makes resumable).
import { useEffect, useReducer, useRef, useState, type ReactNode } from "react";
import { Box } from "ink";
import { applyInstallEvent, cellKey, initialProgress, isSettled, type CellState, type InstallEvent, type InstallProgress } from "../installEvents.js";
import { wrapText } from "../terminal.js";
import { glyphs, T, useTerm } from "../theme.js";
import { col, Frame, FRAME_ROWS, useKeys } from "../widgets.js";

/** What a finished install reports for the Done screen. */
export interface InstallOutcome {
  consoleUrl: string | null;
  kubeconfigPath: string | null;
  logPath: string | null;
}

/** Starts (or, with retry, resumes) the run; events arrive through onEvent; the promise ends with the run. */
export type InstallRunner = (opts: { retry: boolean; signal: AbortSignal }, onEvent: (e: InstallEvent) => void) => Promise<InstallOutcome>;

/** Props: the hosts in plan order, the runner, the abort signal the wizard owns, and where to go when it succeeded. */
export interface InstallProps {
  hosts: string[];
  run: InstallRunner;
  signal: AbortSignal;
  onDone: (outcome: InstallOutcome, dryRun: boolean) => void;
}

function cellGlyph(s: CellState | undefined, g: ReturnType<typeof glyphs>): string {
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
    default:
      return g.pending;
  }
}

/** The Install screen. */
export function Install(props: InstallProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const [progress, dispatch] = useReducer(applyInstallEvent, props.hosts, initialProgress);
  const [outcome, setOutcome] = useState<InstallOutcome | null>(null);
  const [crash, setCrash] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [focus, setFocus] = useState(0);
  const started = useRef(false);

  const start = (retry: boolean) => {
    setRunning(true);
    setCrash(null);
    props
      .run({ retry, signal: props.signal }, dispatch)
      .then(setOutcome)
      .catch((e: Error & { remedy?: string }) => setCrash(`${e.message}${e.remedy ? ` (fix: ${e.remedy})` : ""}`))
      .finally(() => setRunning(false));
  };
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    start(false);
  }, []);

  const p: InstallProgress = progress;
  const failedHosts = [...new Set(p.failures.map((f) => f.host))];
  useKeys((input, key) => {
    if (key.upArrow) setFocus((f) => Math.max(0, f - 1));
    else if (key.downArrow) setFocus((f) => Math.min(Math.max(0, failedHosts.length - 1), f + 1));
    if (running) return;
    if (input === "r" && (p.finished === "failed" || p.finished === "interrupted" || crash)) start(true);
    else if (key.return && p.finished === "succeeded" && outcome) props.onDone(outcome, p.dryRun);
  });

  const hostW = Math.min(14, Math.max(6, ...p.hosts.map((h) => h.length)));
  const room = term.columns - hostW - 14;
  const total = p.steps.length;
  const firstOpen = Math.max(0, p.steps.findIndex((s) => p.hosts.some((h) => !isSettled(p.cells[cellKey(s.id, h)]))));
  const from = total <= room ? 0 : Math.min(Math.max(0, firstOpen - Math.floor(room / 3)), total - room);
  const shownSteps = p.steps.slice(from, from + room);
  const settledCount = p.steps.reduce((n, s) => n + p.hosts.filter((h) => isSettled(p.cells[cellKey(s.id, h)])).length, 0);
  const cellsTotal = total * p.hosts.length;
  const failure = p.failures.find((f) => f.host === failedHosts[Math.min(focus, failedHosts.length - 1)]) ?? null;
  const detailRows = failure ? 7 : 0;
  const gridRows = Math.max(2, term.rows - FRAME_ROWS - 4 - detailRows);
  const hostRows = p.hosts.slice(0, gridRows - 1);

  const cur = p.running[0];
  const headline = p.finished
    ? p.finished === "succeeded"
      ? `${p.dryRun ? "Dry run" : "Install"} finished in ${((p.durationMs ?? 0) / 1000).toFixed(1)} s`
      : `${p.dryRun ? "Dry run" : "Install"} ${p.finished}: ${p.failures.length} step(s) failed`
    : cur
      ? `Now: ${cur.title} on ${cur.host}${p.running.length > 1 ? ` (+${p.running.length - 1} more)` : ""}`
      : total === 0
        ? "Starting ..."
        : "Working ...";
  const status = crash
    ? { text: `the install stopped: ${crash}; r retries`, tone: "bad" as const }
    : p.finished === "succeeded"
      ? { text: "Enter: continue", tone: "ok" as const }
      : p.finished
        ? { text: "r: retry (finished steps are checked and skipped)  Ctrl-C: quit, resumable later", tone: "bad" as const }
        : null;
  return (
    <Frame step="Install" hints={["Up/Down failing host", "Ctrl-C stop (resumable)"]} status={status}>
      <T bold tone={p.finished === "failed" || crash ? "bad" : p.finished === "succeeded" ? "ok" : "accent"}>{`${p.dryRun ? "[DRY RUN: nothing is changed] " : ""}${headline}`}</T>
      <T>{`${settledCount}/${cellsTotal} step-host pairs done; steps ${from + 1}-${from + shownSteps.length} of ${total}${p.logDir ? `; logs: ${p.logDir}` : ""}`}</T>
      <T tone="dim">{`${col("host", hostW)}  ${shownSteps.map((_, i) => String((from + i + 1) % 10)).join("")}`}</T>
      {hostRows.map((h) => {
        const cells = shownSteps.map((s) => cellGlyph(p.cells[cellKey(s.id, h)], g)).join("");
        const hostFailed = failedHosts.includes(h);
        return <T key={h} tone={hostFailed ? "bad" : "normal"}>{`${col(h, hostW)}  ${cells}`}</T>;
      })}
      {p.hosts.length > hostRows.length ? <T tone="dim">{`... ${p.hosts.length - hostRows.length} more hosts`}</T> : null}
      <T tone="dim">{`${g.done} done  ${g.skip} skipped  ${g.running} running  ${g.failCell} failed  ${g.plan} would apply  ${g.pending} pending`}</T>
      {failure ? (
        <Box flexDirection="column" height={detailRows}>
          <T tone="bad" bold>{`${failure.host}: ${failure.stepId}: ${failure.error.message} [${failure.error.code}]`}</T>
          {failure.error.remedy ? <T tone="accent">{`  fix: ${wrapText(failure.error.remedy, term.columns - 7)[0] ?? ""}`}</T> : null}
          {(failure.error.outputTail ?? "").split("\n").filter(Boolean).slice(-4).map((l, i) => (
            <T key={i} tone="dim">{`  | ${l}`}</T>
          ))}
          {failure.logPath ? <T tone="dim">{`  log: ${failure.logPath}`}</T> : null}
        </Box>
      ) : null}
    </Frame>
  );
}
