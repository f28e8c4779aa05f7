// Done: where the platform is (console URL, kubeconfig), the admin password when it was generated (shown this once),
// what to do next, and where the full log is.
import type { ReactNode } from "react";
import { Box } from "ink";
import { glyphs, T, useTerm } from "../theme.js";
import { Frame, useKeys } from "../widgets.js";

/** Props: what the install reported, the generated password (null when typed by the operator) and the saved config. */
export interface DoneProps {
  dryRun: boolean;
  consoleUrl: string | null;
  kubeconfigPath: string | null;
  logPath: string | null;
  configPath: string | null;
  generatedAdminPassword: string | null;
  onExit: () => void;
}

/** The last screen. */
export function Done(props: DoneProps): ReactNode {
  const term = useTerm();
  const g = glyphs(term.ascii);
  useKeys((input, key) => {
    if (key.return || input === "q") props.onExit();
  });
  const next = props.dryRun
    ? ["Nothing was changed: this was a dry run.", `Install for real: omstack install -c ${props.configPath ?? "omstack.yaml"} --yes`]
    : [
        `Open the console${props.consoleUrl ? ` at ${props.consoleUrl}` : ""} and log in as admin.`,
        `kubectl --kubeconfig ${props.kubeconfigPath ?? "<kubeconfig>"} get nodes`,
        "Add users and check service health in the console.",
        `Repeat or extend this install: omstack install -c ${props.configPath ?? "omstack.yaml"} --yes`,
      ];
  return (
    <Frame step="Done" hints={["Enter or q: exit"]}>
      <T bold tone="ok">{`${g.ok} ${props.dryRun ? "Dry run finished" : "OMStack is installed"}`}</T>
      <Box height={1} />
      <T>{`Admin console: ${props.consoleUrl ?? "(not reported)"}`}</T>
      <T>{`Kubeconfig:    ${props.kubeconfigPath ?? "(not reported)"}`}</T>
      <T>{`Install log:   ${props.logPath ?? "(not reported)"}`}</T>
      <T>{`Answers:       ${props.configPath ?? "(not saved)"} (no secrets in it)`}</T>
      <Box height={1} />
      {props.generatedAdminPassword ? (
        <Box flexDirection="column">
          <T tone="warn" bold>Admin password (generated; shown this once, write it down now):</T>
          <T bold>{`  ${props.generatedAdminPassword}`}</T>
          <Box height={1} />
        </Box>
      ) : null}
      <T bold>Next steps</T>
      {next.map((l, i) => (
        <T key={i}>{`  ${i + 1}. ${l}`}</T>
      ))}
    </Frame>
  );
}
