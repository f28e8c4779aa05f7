// Install: the engine's progress as a steps × hosts grid (progressGrid.tsx, shared with `omstack install --yes` on a
// terminal), the step running now, elapsed time, a failing host's error and log tail, and a retry. Fed by an injected
// event stream; Ctrl-C is handled by the wizard (it aborts the run, which the journal makes resumable).
import { useEffect, useReducer, useRef, useState, type ReactNode } from "react";
import { applyTimedEvent, initialProgress, type InstallEvent, type InstallProgress } from "../installEvents.js";
import { ProgressGrid, useClock, type LogTailReader } from "../progressGrid.js";
import { useTerm } from "../theme.js";
import { Frame, FRAME_ROWS, useKeys } from "../widgets.js";

/** What a finished install reports for the Done screen (for a dry run: what a real run would produce). */
export interface InstallOutcome {
  /** The admin console (https://first control plane:9443), or null when this install does not set it up. */
  consoleUrl: string | null;
  /** The cluster-admin kubeconfig, or null when this install does not write one (no bundle: host preparation only). */
  kubeconfigPath: string | null;
  /** The admin console's first user, or null without the admin service. */
  adminUser: string | null;
  /** The full-detail log file of this command. */
  logPath: string | null;
  /** The run's per-host logs (null for a dry run). */
  runLogDir?: string | null;
  /** Lines the install had to show once and never log (a resumed run's generated admin password). */
  shownOnce?: string[];
  /** Command-line flags omstack.yaml does not hold (--trust, --services, --known-hosts …), for the "repeat" command. */
  repeatFlags?: string[];
}

/** How a run ended, as the Done screen tells it. */
export interface InstallEnd {
  dryRun: boolean;
  status: "succeeded" | "failed" | "interrupted";
  failures: { host: string; stepId: string; message: string; code: string }[];
}

/** Starts (or, with retry, resumes) the run; events arrive through onEvent; the promise ends with the run. */
export type InstallRunner = (opts: { retry: boolean; signal: AbortSignal }, onEvent: (e: InstallEvent) => void) => Promise<InstallOutcome>;

/** Props: the hosts in plan order, the runner, the abort signal the wizard owns, and where to go when it ended. */
export interface InstallProps {
  hosts: string[];
  run: InstallRunner;
  signal: AbortSignal;
  onDone: (outcome: InstallOutcome, end: InstallEnd) => void;
  /** The clock for elapsed times (tests pass a fixed one). */
  clock?: () => number;
  logTail?: LogTailReader;
}

/** The Install screen. */
export function Install(props: InstallProps): ReactNode {
  const term = useTerm();
  const clock = props.clock ?? Date.now;
  const [progress, dispatch] = useReducer(applyTimedEvent, props.hosts, initialProgress);
  const [outcome, setOutcome] = useState<InstallOutcome | null>(null);
  const [crash, setCrash] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [focus, setFocus] = useState(0);
  const started = useRef(false);
  const now = useClock(clock, running);

  const start = (retry: boolean) => {
    setRunning(true);
    setCrash(null);
    props
      .run({ retry, signal: props.signal }, (e) => dispatch({ e, at: clock() }))
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
    else if (key.return && p.finished && outcome) {
      props.onDone(outcome, { dryRun: p.dryRun, status: p.finished, failures: p.failures.map((f) => ({ host: f.host, stepId: f.stepId, message: f.error.message, code: f.error.code })) });
    }
  });

  const status = crash
    ? { text: `the install stopped: ${crash}; r retries`, tone: "bad" as const }
    : p.finished === "succeeded"
      ? { text: "Enter: continue", tone: "ok" as const }
      : p.finished && outcome
        ? { text: "r: retry (finished steps are checked and skipped)  Enter: summary  Ctrl-C: quit", tone: "bad" as const }
        : null;
  return (
    <Frame step="Install" hints={["Up/Down failing host", "Ctrl-C stop (resumable)"]} status={status}>
      <ProgressGrid progress={p} now={now} height={term.rows - FRAME_ROWS} focus={focus} {...(props.logTail ? { logTail: props.logTail } : {})} />
    </Frame>
  );
}
