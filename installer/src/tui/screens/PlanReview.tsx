// Plan review: roles, the disks that will be ERASED (typing the cluster name confirms them), the RDMA plane, the
// services and why, the admin password (typed, or generated and shown once), the proxy's virtual IP and the pod and
// service networks.
import { useState, type ReactNode } from "react";
import { Box } from "ink";
import { isIP } from "node:net";
import { cidrProblem, cidrsOverlap, type AdminPasswordPolicy } from "../../config/installConfig.js";
import { DEFAULT_NETWORK } from "../../plan/buildPlan.js";
import type { Plan } from "../../plan/types.js";
import { renderPlan } from "../../plan/render.js";
import { formatBytes, plainStyle } from "../../probe/render.js";
import { glyphs, T, useTerm } from "../theme.js";
import { col, Frame, FRAME_ROWS, LineInput, Select, Window, type Line, useKeys } from "../widgets.js";

/** The shortest admin password accepted when typed. */
export const MIN_ADMIN_PASSWORD = 12;

/** Choices on this screen that change the plan (the wizard re-plans and passes the new plan back). */
export interface PlanChoices {
  controlPlanes: 1 | 3 | null;
  virtualIP: string | null;
  adminPassword: AdminPasswordPolicy;
  /** host → disks the operator allows to be erased. */
  wipe: Record<string, string[]>;
  /** Kubernetes pod and service ranges (IPv4 CIDR); null: the planner's default. */
  podSubnet: string | null;
  serviceSubnet: string | null;
}

/** Props: the plan for the current choices, how many checks fail under them, and the callbacks. */
export interface PlanReviewProps {
  clusterName: string;
  plan: Plan;
  choices: PlanChoices;
  failingChecks: number;
  adminPasswordSet: boolean;
  onChange: (choices: PlanChoices) => void;
  onAdminPassword: (password: string) => void;
  onConfirm: () => void;
  onBack?: () => void;
  /** A problem from outside the screen (e.g. omstack.yaml could not be saved). */
  notice?: string | null;
  /** Set after confirming with a generated password: the screen shows it this once; Enter starts the install. */
  generatedPassword?: { user: string; password: string } | null;
  onStart?: () => void;
  /** Esc from the password view: back to the plan (confirming again shows the same password). */
  onPasswordBack?: () => void;
}

type Mode = "view" | "vip" | "pods" | "services" | "pwPolicy" | "pw1" | "pw2" | "wipe" | "confirm";

/** Why a pod/service range cannot be used with these hosts, or null: the config's rules plus "no host inside it". */
export function networkProblem(podSubnet: string, serviceSubnet: string, hostAddresses: readonly (string | null)[]): string | null {
  const pods = cidrProblem(podSubnet, 8, 22);
  if (pods) return `pod network "${podSubnet}": ${pods}`;
  const svcs = cidrProblem(serviceSubnet, 12, 28);
  if (svcs) return `service network "${serviceSubnet}": ${svcs}`;
  if (cidrsOverlap(podSubnet, serviceSubnet)) return `the service network ${serviceSubnet} overlaps the pod network ${podSubnet}`;
  for (const a of hostAddresses) {
    if (a === null || isIP(a) !== 4) continue;
    if (cidrsOverlap(podSubnet, `${a}/32`)) return `the pod network ${podSubnet} contains the host address ${a}`;
    if (cidrsOverlap(serviceSubnet, `${a}/32`)) return `the service network ${serviceSubnet} contains the host address ${a}`;
  }
  return null;
}

/** Disks the plan erases, as host/name pairs. */
export function erasedDisks(plan: Plan): { host: string; name: string; sizeBytes: number | null }[] {
  return plan.nodes.flatMap((n) => n.disks.filter((d) => d.wipe).map((d) => ({ host: n.host, name: d.name, sizeBytes: d.sizeBytes })));
}

/** The Plan review screen. */
export function PlanReview(props: PlanReviewProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  const [mode, setMode] = useState<Mode>("view");
  const [scroll, setScroll] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [firstPw, setFirstPw] = useState("");
  const [wipeFocus, setWipeFocus] = useState(0);
  /** The pod network typed, kept while the service network is asked (both are checked together). */
  const [podDraft, setPodDraft] = useState<string | null>(null);
  const c = props.choices;
  const erased = erasedDisks(props.plan);
  const candidates = props.plan.nodes.flatMap((n) => n.disks.filter((d) => d.wipe || d.reason.startsWith("left alone: in use")).map((d) => ({ host: n.host, disk: d })));
  const planLines = renderPlan(props.plan, plainStyle).split("\n");
  const bodyHeight = term.rows - FRAME_ROWS;
  const topHeight = 6;
  const viewHeight = Math.max(3, bodyHeight - topHeight - 1);

  const pwShown = props.generatedPassword ?? null;
  useKeys(
    (input, key) => {
      if (pwShown) {
        if (key.return) props.onStart?.();
        else if (key.escape) (setMode("view"), props.onPasswordBack?.());
        return;
      }
      if (mode === "view") {
        if (key.upArrow) setScroll((s) => Math.max(0, s - 1));
        else if (key.downArrow) setScroll((s) => Math.min(planLines.length - 1, s + 1));
        else if (key.pageUp) setScroll((s) => Math.max(0, s - viewHeight));
        else if (key.pageDown) setScroll((s) => Math.min(planLines.length - 1, s + viewHeight));
        else if (input === "c") props.onChange({ ...c, controlPlanes: c.controlPlanes === null ? 1 : c.controlPlanes === 1 ? 3 : null });
        else if (input === "v") (setError(null), setMode("vip"));
        else if (input === "n") (setError(null), setMode("pods"));
        else if (input === "p") (setError(null), setMode("pwPolicy"));
        else if (input === "w") {
          if (candidates.length === 0) return setError("no disk holds data: there is nothing to choose for erasing");
          setError(null);
          setMode("wipe");
        }
        else if (key.escape) props.onBack?.();
        else if (key.return) {
          if (props.failingChecks > 0) return setError(`${props.failingChecks} preflight check(s) fail with these choices: Esc goes back to fix or bypass them`);
          if (c.adminPassword === "ask" && !props.adminPasswordSet) return setError("type the admin password first (p)");
          if (erased.length > 0) return (setError(null), setMode("confirm"));
          props.onConfirm();
        }
      } else if (mode === "wipe") {
        if (key.upArrow) setWipeFocus((f) => Math.max(0, f - 1));
        else if (key.downArrow) setWipeFocus((f) => Math.min(candidates.length - 1, f + 1));
        else if (input === " " || input === "x") {
          const cand = candidates[wipeFocus];
          if (!cand) return;
          const list = c.wipe[cand.host] ?? [];
          const next = list.includes(cand.disk.name) ? list.filter((d) => d !== cand.disk.name) : [...list, cand.disk.name].sort();
          props.onChange({ ...c, wipe: { ...c.wipe, [cand.host]: next } });
        } else if (key.return || key.escape) setMode("view");
      } else if (key.escape) (setError(null), setMode("view"));
    },
    { isActive: mode === "view" || mode === "wipe" || mode === "vip" || mode === "pods" || mode === "services" || mode === "pw1" || mode === "pw2" || mode === "confirm" || mode === "pwPolicy" },
  );

  const admin =
    c.adminPassword === "generate" ? "generated when you start the install, shown once here" : props.adminPasswordSet ? "typed by you (kept in memory only)" : "to be typed: press p";
  const top = (
    <Box flexDirection="column" height={topHeight}>
      <T bold>{`Cluster ${props.clusterName}: ${props.plan.nodes.length} nodes, control planes: ${c.controlPlanes ?? `auto (${props.plan.nodes.filter((n) => n.roles.includes("control-plane")).length})`}, virtual IP: ${c.virtualIP ?? "none"}`}</T>
      <T>{`Admin password: ${admin}`}</T>
      <T max={term.columns}>{`Networks: pods ${props.plan.cluster.podSubnet}, services ${props.plan.cluster.serviceSubnet} (${c.podSubnet === null && c.serviceSubnet === null ? "defaults; " : ""}n changes)`}</T>
      {erased.length > 0 ? (
        <T tone="bad" bold>{`${g.fail} ${erased.length} disk${erased.length === 1 ? "" : "s"} will be ERASED: ${erased.map((d) => `${d.host}:/dev/${d.name}`).join(", ")}`}</T>
      ) : (
        <T tone="ok">No disk will be erased (only empty disks are used).</T>
      )}
      <T tone={props.failingChecks ? "bad" : "dim"}>{props.failingChecks ? `${props.failingChecks} preflight check(s) fail with these choices` : `Bypassed checks: ${props.plan.bypassedChecks.join(", ") || "none"}`}</T>
      {error || props.notice ? <T tone="bad">{error ?? props.notice}</T> : <T> </T>}
    </Box>
  );

  let bottom: ReactNode;
  if (pwShown) {
    bottom = (
      <Box flexDirection="column">
        <T tone="warn" bold>The admin console password, generated now: shown this once, stored nowhere in</T>
        <T tone="warn" bold>plain text (not in omstack.yaml, not in any log). Write it down now.</T>
        <Box height={1} />
        <T>{`  user:     ${pwShown.user}`}</T>
        <T bold>{`  password: ${pwShown.password}`}</T>
        <Box height={1} />
        <T tone="dim">Change it after the first login (or: omstack admin reset-password on the node).</T>
      </Box>
    );
  } else if (mode === "vip") {
    bottom = (
      <Box flexDirection="column">
        <Box>
          <T max={40}>Virtual IP of the intranet proxy: </T>
          <LineInput
            initial={c.virtualIP ?? ""}
            placeholder="none; e.g. 10.0.0.250"
            onSubmit={(v) => {
              const t = v.trim();
              if (t !== "" && isIP(t) === 0) return setError(`"${t}" is not an IPv4 or IPv6 address`);
              setError(null);
              props.onChange({ ...c, virtualIP: t === "" ? null : t });
              setMode("view");
            }}
          />
        </Box>
        <T tone="dim">An unused address on the hosts' network; empty for none. Esc cancels.</T>
      </Box>
    );
  } else if (mode === "pods" || mode === "services") {
    const pods = mode === "pods";
    const hosts = props.plan.nodes.map((n) => n.address);
    bottom = (
      <Box flexDirection="column">
        <Box>
          <T max={40}>{pods ? "Pod network (CIDR): " : "Service network (CIDR): "}</T>
          <LineInput
            key={mode}
            initial={(pods ? c.podSubnet : c.serviceSubnet) ?? ""}
            placeholder={`empty: ${pods ? DEFAULT_NETWORK.podSubnet : DEFAULT_NETWORK.serviceSubnet} (default)`}
            onSubmit={(v) => {
              const t = v.trim() === "" ? null : v.trim();
              if (pods) {
                const problem = t === null ? null : cidrProblem(t, 8, 22);
                if (problem) return setError(`pod network "${t}": ${problem}`);
                setError(null);
                setPodDraft(t);
                return setMode("services");
              }
              const problem = networkProblem(podDraft ?? DEFAULT_NETWORK.podSubnet, t ?? DEFAULT_NETWORK.serviceSubnet, hosts);
              if (problem) return setError(problem);
              setError(null);
              props.onChange({ ...c, podSubnet: podDraft, serviceSubnet: t });
              setMode("view");
            }}
          />
        </Box>
        <T tone="dim" wrap>
          {pods
            ? "Each node gets a /24 of it for its pods. It must not overlap the hosts' networks. Empty: the default. Esc cancels."
            : "Addresses of Kubernetes Services; must overlap neither the pod network nor the hosts' networks. Esc cancels."}
        </T>
      </Box>
    );
  } else if (mode === "pwPolicy") {
    bottom = (
      <Select
        items={[
          { label: "generate a strong password (shown once, on this screen)", value: "generate" as const },
          { label: "type a password now (hidden, never stored)", value: "ask" as const },
        ]}
        initial={c.adminPassword === "ask" ? 1 : 0}
        onSelect={(v) => {
          props.onChange({ ...c, adminPassword: v });
          setMode(v === "ask" ? "pw1" : "view");
        }}
      />
    );
  } else if (mode === "pw1" || mode === "pw2") {
    bottom = (
      <Box>
        <T max={40}>{mode === "pw1" ? `Admin password (min ${MIN_ADMIN_PASSWORD}): ` : "Type it again: "}</T>
        <LineInput
          key={mode}
          mask
          clearOnSubmit
          onSubmit={(v) => {
            if (mode === "pw1") {
              if (v.length < MIN_ADMIN_PASSWORD) return setError(`the password has ${v.length} characters; at least ${MIN_ADMIN_PASSWORD} are needed`);
              setError(null);
              setFirstPw(v);
              setMode("pw2");
            } else {
              if (v !== firstPw) return (setError("the two passwords differ; type it again"), setFirstPw(""), setMode("pw1"));
              setError(null);
              setFirstPw("");
              props.onAdminPassword(v);
              setMode("view");
            }
          }}
        />
      </Box>
    );
  } else if (mode === "wipe") {
    const lines: Line[] = candidates.map((cand, i) => {
      const on = (c.wipe[cand.host] ?? []).includes(cand.disk.name);
      return { text: `${i === wipeFocus ? g.pointer : " "} [${on ? "x" : " "}] ${col(cand.host, 14)} /dev/${col(cand.disk.name, 10)} ${col(formatBytes(cand.disk.sizeBytes), 9)} ${cand.disk.reason}`, tone: on ? "bad" : "normal" };
    });
    bottom = (
      <Box flexDirection="column">
        <T bold>Disks that hold data: x/Space marks one to be ERASED and used by the platform</T>
        <Window lines={lines} height={viewHeight - 2} focus={wipeFocus} />
        <T tone="dim">Enter done</T>
      </Box>
    );
  } else if (mode === "confirm") {
    bottom = (
      <Box flexDirection="column">
        <T tone="bad" bold>{`This ERASES ${erased.length} disk${erased.length === 1 ? "" : "s"}; everything on ${erased.length === 1 ? "it" : "them"} is lost:`}</T>
        {erased.slice(0, viewHeight - 4).map((d) => (
          <T key={`${d.host}/${d.name}`} tone="bad">{`  ${d.host}: /dev/${d.name} ${formatBytes(d.sizeBytes)}`}</T>
        ))}
        <Box>
          <T max={60}>{`Type the cluster name (${props.clusterName}) to confirm: `}</T>
          <LineInput
            onSubmit={(v) => {
              if (v.trim() !== props.clusterName) return setError(`"${v.trim()}" is not the cluster name; nothing was confirmed (Esc goes back)`);
              setError(null);
              props.onConfirm();
            }}
          />
        </Box>
      </Box>
    );
  } else {
    const lines: Line[] = planLines.map((l) => ({ text: l, tone: l.includes("ERASE") || l.startsWith("  !!") ? "bad" : /^[A-Z]/.test(l) ? "accent" : "normal", bold: /^[A-Z]/.test(l) }));
    const start = Math.min(scroll, Math.max(0, lines.length - viewHeight));
    bottom = <Window lines={lines.slice(start, start + viewHeight)} height={viewHeight} />;
  }
  const hints = pwShown
    ? ["Enter: written down, start the install", "Esc back"]
    : mode === "view" ? ["Up/Down/PgUp/PgDn scroll", "c planes", "v VIP", "p password", "w disks", "Enter install"] : mode === "wipe" ? ["Up/Down select", "x mark", "Enter done"] : ["Enter confirm", "Esc cancel"];
  return (
    <Frame step="Plan" hints={hints}>
      {top}
      <Box height={1} />
      {bottom}
    </Frame>
  );
}
