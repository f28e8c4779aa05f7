// Welcome: what is about to be installed (the bundle's manifest), where the installer keeps its state, whether a
// previous run can be resumed, and the cluster's name.
import { useState, type ReactNode } from "react";
import { Box } from "ink";
import { clusterNameProblem } from "../../config/installConfig.js";
import { formatBytes } from "../../probe/render.js";
import { T } from "../theme.js";
import { Frame, LineInput, Select } from "../widgets.js";

/** What Welcome shows of the bundle: read from bundle.json by the caller, or why it could not be. */
export type BundleView =
  | { status: "none" }
  | { status: "loading"; path: string }
  | { status: "ok"; path: string; name: string; version: string; arch: string; components: Record<string, string>; images: number; charts: number; packages: number; bytes: number }
  | { status: "error"; path: string; message: string; remedy: string | null };

/** A run the journal says did not finish, offered for resuming. */
export interface PreviousRun {
  runId: number;
  startedAt: string;
  status: string;
  stepsDone: number;
  stepsTotal: number;
}

/** The operator's answer on Welcome. */
export type WelcomeChoice = { kind: "new"; clusterName: string } | { kind: "resume"; runId: number };

/** Props: everything is given; Welcome itself reads nothing. */
export interface WelcomeProps {
  bundle: BundleView;
  stateDir: string;
  previousRun: PreviousRun | null;
  clusterName: string;
  onNext: (choice: WelcomeChoice) => void;
}

/** The first screen. */
export function Welcome(props: WelcomeProps): ReactNode {
  const [phase, setPhase] = useState<"resume" | "name">(props.previousRun ? "resume" : "name");
  const [error, setError] = useState<string | null>(null);
  const b = props.bundle;
  const bundleLines: ReactNode[] = [];
  if (b.status === "none") bundleLines.push(<T key="b" tone="warn">Bundle: none given (pass --bundle FILE); default versions are assumed for checks</T>);
  else if (b.status === "loading") bundleLines.push(<T key="b" tone="dim">{`Bundle: reading ${b.path} ...`}</T>);
  else if (b.status === "error") {
    bundleLines.push(<T key="b" tone="bad">{`Bundle: ${b.path} cannot be used: ${b.message}`}</T>);
    if (b.remedy) bundleLines.push(<T key="r" tone="dim">{`  fix: ${b.remedy}`}</T>);
  } else {
    bundleLines.push(<T key="b" bold>{`Bundle: ${b.name} ${b.version} (${b.arch}), ${formatBytes(b.bytes)}`}</T>);
    bundleLines.push(<T key="p" tone="dim">{`  ${b.path}`}</T>);
    const comps = Object.entries(b.components).map(([k, v]) => `${k} ${v}`);
    for (let i = 0; i < comps.length && i < 6; i += 3) bundleLines.push(<T key={`c${i}`}>{`  ${comps.slice(i, i + 3).join(", ")}`}</T>);
    bundleLines.push(<T key="n">{`  ${b.images} images, ${b.charts} Helm chart${b.charts === 1 ? "" : "s"}, ${b.packages} host package${b.packages === 1 ? "" : "s"}`}</T>);
  }
  return (
    <Frame step="Welcome" hints={phase === "resume" ? ["Up/Down choose", "Enter select", "Ctrl-C quit"] : ["type the cluster name", "Enter continue", "Ctrl-C quit"]}>
      <T wrap>This wizard installs OMStack on your hosts: it probes them (read-only), checks them, shows the plan, and only then changes anything.</T>
      <Box height={1} />
      {bundleLines}
      <T>{`State directory: ${props.stateDir}`}</T>
      <Box height={1} />
      {phase === "resume" && props.previousRun ? (
        <Box flexDirection="column">
          <T tone="warn" wrap>{`A previous install (run ${props.previousRun.runId}, started ${props.previousRun.startedAt}) is ${props.previousRun.status}: ${props.previousRun.stepsDone}/${props.previousRun.stepsTotal} steps done.`}</T>
          <Select
            items={[
              { label: `Resume run ${props.previousRun.runId} (finished steps are checked and skipped)`, value: "resume" as const },
              { label: "Start a new install", value: "new" as const },
            ]}
            onSelect={(v) => (v === "resume" ? props.onNext({ kind: "resume", runId: props.previousRun!.runId }) : setPhase("name"))}
          />
        </Box>
      ) : (
        <Box flexDirection="column">
          <Box>
            <T max={16}>Cluster name: </T>
            <LineInput
              initial={props.clusterName}
              onSubmit={(v) => {
                const name = v.trim();
                const problem = clusterNameProblem(name);
                if (problem) setError(problem);
                else props.onNext({ kind: "new", clusterName: name });
              }}
            />
          </Box>
          {error ? <T tone="bad" wrap>{error}</T> : <T tone="dim">{`Lower-case letters, digits and '-'; it names the kubeconfig context.`}</T>}
        </Box>
      )}
    </Frame>
  );
}
