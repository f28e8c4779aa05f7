// Probe: a live table as each host answers (OS, GPUs, RDMA ports, disks), failures with their reason, unknown host keys
// with their fingerprints to accept, and a retry of just the failed hosts. The probe itself is injected.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Box } from "ink";
import type { HostSpec } from "../../inventory/types.js";
import type { DiskFacts, HostFacts } from "../../probe/facts.js";
import type { ProbeEvent } from "../../probe/probeHosts.js";
import { glyphs, T, useTerm } from "../theme.js";
import { col, Frame, FRAME_ROWS, Window, type Line, useKeys } from "../widgets.js";

/** Runs the probe for some hosts, reporting each step; resolves when every host answered or failed. */
export type ProbeRunner = (hosts: HostSpec[], opts: { acceptNewHostKeys: boolean }, onEvent: (e: ProbeEvent) => void) => Promise<void>;

/** Per-host probe state as the table shows it. */
export type HostProbeState =
  | { state: "waiting" | "connecting" | "probing" }
  | { state: "done"; facts: HostFacts; ms: number }
  | { state: "failed"; code: string; message: string; remedy: string | null; fingerprint: string | null; keyType: string | null; ms: number };

/** Props: the hosts, the runner, and what to do with the facts of the hosts that answered. */
export interface ProbeProps {
  hosts: HostSpec[];
  probe: ProbeRunner;
  /** The facts of the hosts that answered, and the hosts the operator chose to leave out (they failed). */
  onNext: (facts: HostFacts[], leftOut: string[]) => void;
  onBack?: () => void;
}

/** Folds a probe event into the per-host table state (pure). */
export function applyProbeEvent(s: Record<string, HostProbeState>, e: ProbeEvent): Record<string, HostProbeState> {
  switch (e.type) {
    case "host-started":
      return { ...s, [e.host]: { state: "connecting" } };
    case "host-connected":
      return { ...s, [e.host]: { state: "probing" } };
    case "host-done":
      return { ...s, [e.host]: { state: "done", facts: e.facts, ms: e.ms } };
    case "host-failed": {
      const d = e.error.details ?? {};
      return {
        ...s,
        [e.host]: {
          state: "failed",
          code: e.error.code,
          message: e.error.message.replace(`${e.host}: `, ""),
          remedy: e.error.remedy ?? null,
          fingerprint: typeof d.fingerprint === "string" ? d.fingerprint : null,
          keyType: typeof d.keyType === "string" ? d.keyType : null,
          ms: e.ms,
        },
      };
    }
  }
}

function diskInUse(d: DiskFacts): boolean {
  return d.mountpoints.length > 0 || d.fstype !== null || d.children.some(diskInUse);
}

/** One-cell summaries of a host's facts for the table. */
export function summarizeFacts(f: HostFacts): { os: string; gpus: string; rdma: string; disks: string } {
  const os = f.os ? `${f.os.id} ${f.os.versionId ?? ""}`.trim() : "?";
  const models = new Map<string, number>();
  for (const g of f.gpus) {
    const short = g.model.replace(/^NVIDIA\s+/, "").replace(/-SXM\d?-?|-PCIE-?/i, " ").split(/\s+/)[0] ?? g.model;
    const mem = g.memoryMiB ? ` ${Math.round(g.memoryMiB / 1024)}G` : "";
    models.set(`${short}${mem}`, (models.get(`${short}${mem}`) ?? 0) + 1);
  }
  const gpus = f.gpus.length === 0 ? "-" : [...models].map(([m, n]) => `${n}x ${m}`).join(", ");
  const active = f.rdma.filter((p) => p.state === "ACTIVE");
  const layer = (p: { linkLayer: string | null }) => (p.linkLayer === "InfiniBand" ? "IB" : p.linkLayer === "Ethernet" ? "RoCE" : "?");
  const rates = [...new Set(active.map((p) => p.rateGbps).filter((r): r is number => r !== null))];
  const rdma = f.rdma.length === 0 ? "-" : `${active.length}/${f.rdma.length} ${[...new Set(f.rdma.map(layer))].join("+")} up${rates.length ? ` ${rates.join("/")}G` : ""}`;
  const disks = f.disks.filter((d) => d.type === "disk");
  const used = disks.filter(diskInUse).length;
  return { os, gpus, rdma, disks: disks.length === 0 ? "-" : `${disks.length - used} free/${used} used` };
}

/** The Probe screen. */
export function Probe(props: ProbeProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const [states, setStates] = useState<Record<string, HostProbeState>>(() => Object.fromEntries(props.hosts.map((h) => [h.name, { state: "waiting" }])));
  // the probe starts on mount: the first frame already says so (not "no host answered")
  const [running, setRunning] = useState(true);
  const [runError, setRunError] = useState<string | null>(null);
  const [focus, setFocus] = useState(0);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const started = useRef(false);

  const run = (hosts: HostSpec[], acceptNewHostKeys: boolean) => {
    setRunning(true);
    setRunError(null);
    setStates((s) => ({ ...s, ...Object.fromEntries(hosts.map((h) => [h.name, { state: "waiting" as const }])) }));
    props
      .probe(hosts, { acceptNewHostKeys }, (e) => setStates((s) => applyProbeEvent(s, e)))
      .catch((e: Error & { remedy?: string }) => setRunError(`${e.message}${e.remedy ? ` (fix: ${e.remedy})` : ""}`))
      .finally(() => setRunning(false));
  };

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    run(props.hosts, false);
  }, []);

  const failed = props.hosts.filter((h) => states[h.name]?.state === "failed");
  const newKeys = failed.filter((h) => {
    const s = states[h.name];
    return s?.state === "failed" && s.code === "E_SSH_HOSTKEY_UNKNOWN";
  });
  const done = props.hosts.filter((h) => states[h.name]?.state === "done");
  const settled = done.length + failed.length;

  const next = () => props.onNext(done.map((h) => (states[h.name] as { facts: HostFacts }).facts), failed.map((h) => h.name));
  useKeys((input, key) => {
    if (confirmLeave) {
      if (input === "y") next();
      setConfirmLeave(false);
      return;
    }
    if (key.upArrow) setFocus((f) => Math.max(0, f - 1));
    else if (key.downArrow) setFocus((f) => Math.min(props.hosts.length - 1, f + 1));
    if (running) return;
    if (input === "r" && failed.length > 0) run(failed.filter((h) => !newKeys.includes(h)).length > 0 ? failed.filter((h) => !newKeys.includes(h)) : failed, false);
    else if (input === "a" && newKeys.length > 0) run(newKeys, true);
    else if (key.escape) props.onBack?.();
    else if (key.return && done.length > 0) {
      if (failed.length > 0) setConfirmLeave(true);
      else next();
    }
  });

  const w = term.columns;
  const header = `  ${col("host", 14)} ${col("state", 5)} ${col("OS", 12)} ${col("GPUs", 15)} ${col("RDMA", 14)} disks`;
  const lines: Line[] = [];
  props.hosts.forEach((h, i) => {
    const s = states[h.name] ?? { state: "waiting" };
    const mark = i === focus ? g.pointer : " ";
    if (s.state === "done") {
      const f = summarizeFacts(s.facts);
      lines.push({ text: `${mark} ${col(h.name, 14)} ${col(g.ok, 5)} ${col(f.os, 12)} ${col(f.gpus, 15)} ${col(f.rdma, 14)} ${f.disks}`, tone: "ok" });
    } else if (s.state === "failed") {
      lines.push({ text: `${mark} ${col(h.name, 14)} ${col(g.fail, 5)} ${s.message}`, tone: "bad" });
    } else {
      lines.push({ text: `${mark} ${col(h.name, 14)} ${col(s.state === "waiting" ? "wait" : s.state === "connecting" ? "ssh" : "probe", 5)} ${h.address}`, tone: "dim" });
    }
  });
  const sel = states[props.hosts[focus]?.name ?? ""];
  const detail: ReactNode[] = [];
  if (sel?.state === "failed") {
    detail.push(<T key="m" tone="bad">{`${props.hosts[focus]!.name}: ${sel.message} [${sel.code}]`}</T>);
    if (sel.remedy) detail.push(<T key="f" tone="dim">{`  fix: ${sel.remedy}`}</T>);
  }
  const keyLines: ReactNode[] = [];
  if (newKeys.length > 0 && !running) {
    keyLines.push(<T key="h" tone="warn">{`New host keys: compare with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on each host`}</T>);
    for (const h of newKeys.slice(0, 3)) {
      const s = states[h.name] as { fingerprint: string | null; keyType: string | null };
      keyLines.push(<T key={h.name}>{`  ${col(h.name, 14)} ${s.keyType ?? "?"} ${s.fingerprint ?? "?"}`}</T>);
    }
    if (newKeys.length > 3) keyLines.push(<T key="more" tone="dim">{`  ... and ${newKeys.length - 3} more`}</T>);
  }
  let status: string;
  if (confirmLeave) status = `Leave out ${failed.map((h) => h.name).join(", ")}? They are dropped from omstack.yaml. y = leave out, n = stay`;
  else if (running) status = `probing: ${settled}/${props.hosts.length} answered${failed.length ? `, ${failed.length} failed` : ""}`;
  else if (runError) status = `the probe could not run: ${runError}`;
  else if (done.length === 0) status = `no host answered (${failed.length} failed): fix the cause shown, then r to retry, or Esc to change the hosts`;
  else if (failed.length > 0) status = `${done.length} of ${props.hosts.length} hosts answered; ${failed.length} will be left out unless you fix them and retry (r)`;
  else status = `all ${done.length} hosts answered`;
  const used = 3 + detail.length + keyLines.length;
  const hints = running ? ["probing (read-only) ...", "Ctrl-C quit"] : [newKeys.length ? "a accept keys" : "", failed.length ? "r retry failed" : "", done.length ? "Enter continue" : "", "Esc back", "Ctrl-C quit"].filter(Boolean);
  return (
    <Frame step="Probe" hints={hints}>
      <T bold>{header}</T>
      <Window lines={lines} height={Math.max(1, term.rows - FRAME_ROWS - used)} focus={focus} />
      {detail}
      {keyLines}
      <Box height={1} />
      <T tone={confirmLeave ? "warn" : running ? "dim" : done.length === 0 || runError ? "bad" : failed.length ? "warn" : "ok"} max={w}>{status}</T>
    </Frame>
  );
}
