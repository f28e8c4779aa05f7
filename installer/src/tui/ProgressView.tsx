// The live progress of `omstack install --yes` on a terminal: the same grid as the wizard's Install screen, without
// the wizard's frame, never taller than the terminal minus one line (so ink redraws in place instead of clearing the
// screen), and with Ctrl-C asking the run to stop. The caller folds the events (installEvents.ts) and re-renders.
import { useEffect, useState, type ReactNode } from "react";
import { Box, useStderr, useStdin } from "ink";
import type { InstallProgress } from "./installEvents.js";
import { ProgressGrid, useClock, type LogTailReader } from "./progressGrid.js";
import { glyphs, T, useTerm } from "./theme.js";
import { useKeys } from "./widgets.js";

/** Props: the folded progress, whether a stop was asked, and the callbacks and facts the view shows. */
export interface ProgressViewProps {
  progress: InstallProgress;
  /** Ctrl-C was pressed once: nothing new starts; the running steps finish. */
  stopping: boolean;
  /** The command's full-detail log file (shown on the last line). */
  logPath: string;
  /** Ctrl-C (from the keyboard, in raw mode): the caller aborts the run, or quits at once on the second press. */
  onInterrupt: () => void;
  clock?: () => number;
  logTail?: LogTailReader;
  /** Receives ink's writer that prints above the view (so stderr lines are not erased by the next redraw). */
  bindStderr?: (write: (data: string) => void) => void;
}

/** Lines the view draws besides the grid: the title, the two log lines and the hint. */
export const PROGRESS_CHROME_ROWS = 4;

/** The live progress view. */
export function ProgressView(props: ProgressViewProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const { isRawModeSupported } = useStdin();
  const { write: writeAbove } = useStderr();
  useEffect(() => props.bindStderr?.(writeAbove), [writeAbove]);
  const [focus, setFocus] = useState(0);
  const p = props.progress;
  const now = useClock(props.clock ?? Date.now, p.finished === null);
  const failedHosts = new Set(p.failures.map((f) => f.host)).size;
  // keys only where the terminal gives them to us; otherwise Ctrl-C arrives as SIGINT, which the caller handles
  useKeys(
    (input, key) => {
      if (key.ctrl && input === "c") props.onInterrupt();
      else if (key.upArrow) setFocus((f) => Math.max(0, f - 1));
      else if (key.downArrow) setFocus((f) => Math.min(Math.max(0, failedHosts - 1), f + 1));
    },
    { isActive: isRawModeSupported === true },
  );
  const height = Math.max(6, term.rows - 1 - PROGRESS_CHROME_ROWS);
  const title = `OMStack install${p.dryRun ? " (dry run)" : ""} ${g.rule} ${p.hosts.length} host${p.hosts.length === 1 ? "" : "s"}, ${p.steps.length} steps`;
  const hint = p.finished
    ? null
    : props.stopping
      ? "Stopping after the running steps; Ctrl-C again quits at once"
      : "Ctrl-C: stop after the running steps (the install stays resumable)";
  return (
    <Box flexDirection="column" width={term.columns}>
      <T bold tone="accent">{title}</T>
      <ProgressGrid progress={p} now={now} height={height} focus={focus} stopping={props.stopping} logDirInline={false} {...(props.logTail ? { logTail: props.logTail } : {})} />
      <T tone="dim">{`log: ${props.logPath}`}</T>
      {p.logDir ? <T tone="dim">{`host logs: ${p.logDir}`}</T> : null}
      {hint ? <T tone={props.stopping ? "warn" : "dim"}>{hint}</T> : null}
    </Box>
  );
}
