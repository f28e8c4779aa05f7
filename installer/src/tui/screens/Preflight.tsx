// Preflight: the checklist grouped by host, failures first, each with its fix. A failing check can be bypassed only
// by an explicit, confirmed choice that is recorded (omstack.yaml `bypassChecks`, and the plan's bypassedChecks).
import { useMemo, useState, type ReactNode } from "react";
import { Box } from "ink";
import type { Outcome, OutcomeStatus } from "../../preflight/preflight.js";
import { wrapText } from "../terminal.js";
import { glyphs, T, useTerm, type Tone } from "../theme.js";
import { Frame, FRAME_ROWS, Window, type Line, useKeys } from "../widgets.js";

/** Props: the outcomes (already evaluated with the current bypasses) and the operator's actions. */
export interface PreflightProps {
  outcomes: readonly Outcome[];
  bypassed: readonly string[];
  onBypass: (checkId: string, bypass: boolean) => void;
  onRerun: () => void;
  onNext: () => void;
  onBack?: () => void;
}

const RANK: Record<OutcomeStatus, number> = { fail: 0, bypassed: 1, warn: 2, pass: 3 };

interface Row {
  line: Line;
  outcome: Outcome | null;
}

/** Orders outcomes: hosts with failures first; within a host, failures, bypassed, warnings, passes; then by area. */
export function orderOutcomes(outcomes: readonly Outcome[]): { host: string; items: Outcome[] }[] {
  const byHost = new Map<string, Outcome[]>();
  for (const o of outcomes) byHost.set(o.host, [...(byHost.get(o.host) ?? []), o]);
  const worst = (items: Outcome[]) => Math.min(...items.map((o) => RANK[o.status]));
  return [...byHost]
    .map(([host, items]) => ({ host, items: items.slice().sort((a, b) => RANK[a.status] - RANK[b.status] || a.area.localeCompare(b.area) || a.checkId.localeCompare(b.checkId)) }))
    .sort((a, b) => worst(a.items) - worst(b.items) || a.host.localeCompare(b.host));
}

/** The Preflight screen. */
export function Preflight(props: PreflightProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const [showPassed, setShowPassed] = useState(false);
  const [focus, setFocus] = useState(0);
  const [confirm, setConfirm] = useState<Outcome | null>(null);
  const counts = { pass: 0, warn: 0, fail: 0, bypassed: 0 };
  for (const o of props.outcomes) counts[o.status]++;

  const rows: Row[] = useMemo(() => {
    const out: Row[] = [];
    const mark: Record<OutcomeStatus, [string, Tone]> = { fail: [g.fail, "bad"], bypassed: [g.bypass, "warn"], warn: [g.warn, "warn"], pass: [g.ok, "ok"] };
    for (const group of orderOutcomes(props.outcomes)) {
      const bad = group.items.filter((o) => o.status !== "pass");
      out.push({ line: { text: `${group.host}  (${bad.filter((o) => o.status === "fail").length} failing, ${group.items.filter((o) => o.status === "pass").length} passed)`, bold: true }, outcome: null });
      for (const o of showPassed ? group.items : bad) {
        const [m, tone] = mark[o.status];
        out.push({ line: { text: `  ${m.padEnd(6)} ${`[${o.area}]`.padEnd(11)} ${o.checkId}: ${o.status === "pass" ? o.title : `${o.found}`}`, tone }, outcome: o });
      }
    }
    return out;
  }, [props.outcomes, showPassed, term.ascii]);
  const selectable = rows.map((r, i) => (r.outcome ? i : -1)).filter((i) => i >= 0);
  const cur = Math.min(focus, Math.max(0, selectable.length - 1));
  const selIndex = selectable[cur] ?? 0;
  const selected = rows[selIndex]?.outcome ?? null;

  useKeys((input, key) => {
    if (confirm) {
      if (input === "y") {
        props.onBypass(confirm.checkId, true);
        setConfirm(null);
      } else if (input === "n" || key.escape || key.return) setConfirm(null);
      return;
    }
    if (key.upArrow) setFocus(Math.max(0, cur - 1));
    else if (key.downArrow) setFocus(Math.min(selectable.length - 1, cur + 1));
    else if (input === "p") setShowPassed((s) => !s);
    else if (input === "b" && selected?.status === "fail") setConfirm(selected);
    else if (input === "u" && selected?.status === "bypassed") props.onBypass(selected.checkId, false);
    else if (input === "r") props.onRerun();
    else if (key.escape) props.onBack?.();
    else if (key.return && counts.fail === 0) props.onNext();
  });

  const width = term.columns;
  const detailLines: Line[] = [];
  if (selected) {
    detailLines.push({ text: `${selected.host}: ${selected.title}`, bold: true });
    for (const l of wrapText(`required: ${selected.required}; found: ${selected.found}`, width - 2).slice(0, 2)) detailLines.push({ text: `  ${l}` });
    if (selected.status !== "pass") for (const l of wrapText(`fix: ${selected.remedy}`, width - 2).slice(0, 3)) detailLines.push({ text: `  ${l}`, tone: "accent" });
    if (selected.status === "bypassed") detailLines.push({ text: `  bypassed by your choice (recorded in omstack.yaml and the plan); u undoes it`, tone: "warn" });
  }
  const detailHeight = 6;
  const listHeight = Math.max(2, term.rows - FRAME_ROWS - 2 - detailHeight);
  const summary = `${counts.fail} failing ${g.rule} ${counts.bypassed} bypassed ${g.rule} ${counts.warn} warnings ${g.rule} ${counts.pass} passed`;
  const status = confirm
    ? { text: `Bypass ${confirm.checkId} on every host (recorded)? y = bypass, n = keep`, tone: "warn" as Tone }
    : counts.fail > 0
      ? { text: `${counts.fail} failing: fix on the hosts then r (re-check), or b to bypass knowingly`, tone: "bad" as Tone }
      : null;
  return (
    <Frame step="Preflight" hints={["Up/Down select", "b bypass", "u undo", "p passed", "r re-run", "Enter continue", "Esc back"]} status={status}>
      <T bold tone={counts.fail ? "bad" : "ok"}>{summary}</T>
      <Window lines={rows.map((r, i) => (i === selIndex && selected ? { ...r.line, text: `${g.pointer}${r.line.text.slice(1)}` } : r.line))} height={listHeight} focus={selIndex} />
      <Box height={1} />
      <Box flexDirection="column" height={detailHeight}>
        {detailLines.slice(0, detailHeight).map((l, i) => (
          <T key={i} tone={l.tone} bold={l.bold}>{l.text}</T>
        ))}
      </Box>
    </Frame>
  );
}
