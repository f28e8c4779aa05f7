// The install wizard: Welcome → Hosts → Probe → Preflight → Plan → Install → Done, producing an InstallConfig.
// Every side effect (bundle reading, SSH probing, planning inputs, saving, installing, exiting) is an injected dep, so
// the same component runs in tests, in the tmux demo and in `omstack install`.
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useStdout } from "ink";
import type { InstallConfig, InstallSecrets } from "../config/installConfig.js";
import type { KeyFileChecker } from "../inventory/load.js";
import type { HostSpec } from "../inventory/types.js";
import type { Plan } from "../plan/types.js";
import type { Outcome } from "../preflight/preflight.js";
import type { HostFacts } from "../probe/facts.js";
import { useKeys } from "./widgets.js";
import type { TermCaps } from "./terminal.js";
import { TermProvider, type Term } from "./theme.js";
import { Done, type AdminPasswordSource } from "./screens/Done.js";
import { Hosts, type HostSecrets } from "./screens/Hosts.js";
import { Install, type InstallEnd, type InstallOutcome } from "./screens/Install.js";
import type { InstallEvent } from "./installEvents.js";
import { PlanReview, type PlanChoices } from "./screens/PlanReview.js";
import { Preflight } from "./screens/Preflight.js";
import { Probe, type ProbeRunner } from "./screens/Probe.js";
import { Welcome, type BundleView, type PreviousRun } from "./screens/Welcome.js";

/** What the wizard needs from the outside world; nothing else is reached. */
export interface WizardDeps {
  /** bundle.json of the bundle at `path`, for Welcome. */
  loadBundle: (path: string) => Promise<BundleView>;
  /** A run that did not finish, offered for resuming (from the journal), or null. */
  previousRun: PreviousRun | null;
  checkKey: KeyFileChecker;
  agentSocket: string | null;
  /** Probes hosts over SSH with the secrets typed on the Hosts screen. */
  probe: (hosts: HostSpec[], secrets: InstallSecrets, opts: { acceptNewHostKeys: boolean }, onEvent: Parameters<ProbeRunner>[2]) => Promise<void>;
  /** Preflight and plan for a config and facts (pure; normally preflightAndPlan over pipelineInputFor). */
  evaluate: (config: InstallConfig, facts: readonly HostFacts[]) => { outcomes: Outcome[]; plan: Plan };
  /** A strong random admin password (generated when the plan is confirmed, shown once there, never again). */
  generatePassword: () => string;
  /** The admin console's first user, named on Plan review and Done. */
  adminUser: string;
  /** --dry-run: no password is generated (nothing will be created), and Done shows what a real run would produce. */
  dryRun: boolean;
  /** Writes omstack.yaml (0600, no secrets); returns the path written. */
  saveConfig: (config: InstallConfig) => Promise<string>;
  /** Runs (or resumes) the install of a plan; events feed the progress view. */
  install: (req: { config: InstallConfig; plan: Plan | null; secrets: InstallSecrets; resumeRunId: number | null; retry: boolean; signal: AbortSignal }, onEvent: (e: InstallEvent) => void) => Promise<InstallOutcome>;
}

/** How the wizard ended: an install (or dry run) that finished, or the operator leaving. */
export type WizardResult =
  | { kind: "finished"; config: InstallConfig; plan: Plan | null; outcome: InstallOutcome }
  | { kind: "cancelled"; screen: Screen; config: InstallConfig; installStarted: boolean };

/** Props: deps, the starting answers (defaults or a loaded omstack.yaml), the terminal, and the end callback. */
export interface WizardProps {
  deps: WizardDeps;
  initial: InstallConfig;
  caps: TermCaps;
  /** Fixed size (tests); otherwise the real terminal's, kept current on resize. */
  size?: { columns: number; rows: number };
  /** Called once config is confirmed, before the install starts (tests and `--dry-run` use it). */
  onConfig?: (config: InstallConfig, plan: Plan) => void;
  onExit: (result: WizardResult) => void;
}

/** The screens, in order. */
export type Screen = "welcome" | "hosts" | "probe" | "preflight" | "plan" | "install" | "done";

function useTerminalSize(fixed: { columns: number; rows: number } | undefined): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: Math.max(40, stdout.columns || 80), rows: Math.max(16, stdout.rows || 24) });
  const [size, setSize] = useState(fixed ?? read());
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => void stdout.off("resize", onResize);
  }, [fixed, stdout]);
  return fixed ?? size;
}

/** The wizard. */
export function Wizard(props: WizardProps): ReactNode {
  const { deps } = props;
  const size = useTerminalSize(props.size);
  const term: Term = { ...props.caps, ...size };
  const [screen, setScreen] = useState<Screen>("welcome");
  const [config, setConfig] = useState<InstallConfig>(props.initial);
  const [bundle, setBundle] = useState<BundleView>(props.initial.bundlePath ? { status: "loading", path: props.initial.bundlePath } : { status: "none" });
  const [secrets, setSecrets] = useState<InstallSecrets>({ sshPassword: null, sudoPassword: null, adminPassword: null });
  const [facts, setFacts] = useState<HostFacts[]>([]);
  const [probeRound, setProbeRound] = useState(0);
  const [resumeRunId, setResumeRunId] = useState<number | null>(null);
  const [savedPath, setSavedPath] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ o: InstallOutcome; end: InstallEnd } | null>(null);
  /** The password generated on Plan review (kept for this wizard: confirming again shows the same one). */
  const [generatedPw, setGeneratedPw] = useState<string | null>(null);
  /** Plan review is showing the generated password; Enter there starts the install. */
  const [showingPw, setShowingPw] = useState(false);
  const [confirmedPlan, setConfirmedPlan] = useState<Plan | null>(null);
  const abort = useRef(new AbortController());
  const exited = useRef(false);

  const exit = (r: WizardResult) => {
    if (exited.current) return;
    exited.current = true;
    props.onExit(r);
  };

  useEffect(() => {
    if (!props.initial.bundlePath) return;
    deps.loadBundle(props.initial.bundlePath).then(setBundle, (e: Error) => setBundle({ status: "error", path: props.initial.bundlePath!, message: e.message, remedy: null }));
  }, []);

  // Ctrl-C anywhere: leave cleanly; during the install, abort the run first (the journal keeps it resumable).
  useKeys((input, key) => {
    if (key.ctrl && input === "c") {
      if (screen === "install") abort.current.abort();
      exit({ kind: "cancelled", screen, config, installStarted: screen === "install" || screen === "done" });
    }
  });

  const evaluated = useMemo(() => (facts.length > 0 && (screen === "preflight" || screen === "plan") ? deps.evaluate(config, facts) : null), [facts, config, screen]);

  const choices: PlanChoices = {
    controlPlanes: config.controlPlanes,
    virtualIP: config.virtualIP,
    adminPassword: config.adminPassword,
    wipe: Object.fromEntries(config.hosts.map((h) => [h.name, h.wipe])),
    podSubnet: config.network.podSubnet,
    serviceSubnet: config.network.serviceSubnet,
  };

  const confirmPlan = async () => {
    const plan = evaluated!.plan;
    try {
      setSavedPath(await deps.saveConfig(config));
      setSaveError(null);
    } catch (e) {
      setSaveError((e as Error).message);
      return;
    }
    setConfirmedPlan(plan);
    props.onConfig?.(config, plan);
    if (config.adminPassword === "generate" && !deps.dryRun) {
      // generated now and shown once on this screen; the install creates the user with it; Done only refers to it
      const pw = generatedPw ?? deps.generatePassword();
      setGeneratedPw(pw);
      setSecrets((s) => ({ ...s, adminPassword: pw }));
      setShowingPw(true);
      return;
    }
    setScreen("install");
  };

  // Done refers to the password by where it was shown or typed; a resumed run typed nothing here
  const passwordSource: AdminPasswordSource = generatedPw !== null && secrets.adminPassword === generatedPw ? "shown-on-plan" : secrets.adminPassword !== null ? "typed" : "earlier";
  let body: ReactNode;
  switch (screen) {
    case "welcome":
      body = (
        <Welcome
          bundle={bundle}
          stateDir={config.stateDir}
          previousRun={deps.previousRun}
          clusterName={config.clusterName}
          onNext={(c) => {
            if (c.kind === "resume") {
              setResumeRunId(c.runId);
              setScreen("install");
            } else {
              setConfig((x) => ({ ...x, clusterName: c.clusterName }));
              setScreen("hosts");
            }
          }}
        />
      );
      break;
    case "hosts":
      body = (
        <Hosts
          hosts={config.hosts}
          checkKey={deps.checkKey}
          agentSocket={deps.agentSocket}
          onBack={() => setScreen("welcome")}
          onNext={(hosts: HostSpec[], hs: HostSecrets) => {
            setConfig((x) => ({ ...x, hosts }));
            setSecrets((s) => ({ ...s, ...hs }));
            setProbeRound((n) => n + 1);
            setScreen("probe");
          }}
        />
      );
      break;
    case "probe":
      body = (
        <Probe
          key={probeRound}
          hosts={config.hosts}
          probe={(hosts, opts, onEvent) => deps.probe(hosts, secrets, opts, onEvent)}
          onBack={() => setScreen("hosts")}
          onNext={(f, leftOut) => {
            setFacts(f);
            if (leftOut.length > 0) setConfig((x) => ({ ...x, hosts: x.hosts.filter((h) => !leftOut.includes(h.name)) }));
            setScreen("preflight");
          }}
        />
      );
      break;
    case "preflight":
      body = (
        <Preflight
          outcomes={evaluated?.outcomes ?? []}
          bypassed={config.bypassedChecks}
          onBypass={(id, on) => setConfig((x) => ({ ...x, bypassedChecks: on ? [...new Set([...x.bypassedChecks, id])].sort() : x.bypassedChecks.filter((b) => b !== id) }))}
          onRerun={() => {
            setProbeRound((n) => n + 1);
            setScreen("probe");
          }}
          onBack={() => setScreen("hosts")}
          onNext={() => setScreen("plan")}
        />
      );
      break;
    case "plan":
      body = (
        <PlanReview
          clusterName={config.clusterName}
          plan={evaluated!.plan}
          choices={choices}
          failingChecks={evaluated!.outcomes.filter((o) => o.status === "fail").length}
          adminPasswordSet={secrets.adminPassword !== null}
          onChange={(c) => {
            // the generated password stops counting as typed once the operator chooses to type one
            if (c.adminPassword === "ask") setSecrets((x) => (x.adminPassword !== null && x.adminPassword === generatedPw ? { ...x, adminPassword: null } : x));
            setConfig((x) => ({
              ...x,
              controlPlanes: c.controlPlanes,
              virtualIP: c.virtualIP,
              adminPassword: c.adminPassword,
              hosts: x.hosts.map((h) => ({ ...h, wipe: c.wipe[h.name] ?? h.wipe })),
              network: { ...x.network, podSubnet: c.podSubnet, serviceSubnet: c.serviceSubnet },
            }));
          }}
          onAdminPassword={(pw) => setSecrets((s) => ({ ...s, adminPassword: pw }))}
          onConfirm={() => void confirmPlan()}
          onBack={() => setScreen("preflight")}
          generatedPassword={showingPw && generatedPw ? { user: deps.adminUser, password: generatedPw } : null}
          onStart={() => {
            setShowingPw(false);
            setScreen("install");
          }}
          onPasswordBack={() => setShowingPw(false)}
          notice={saveError ? `omstack.yaml was not saved: ${saveError}` : null}
        />
      );
      break;
    case "install": {
      const plan = confirmedPlan;
      body = (
        <Install
          hosts={plan ? plan.nodes.map((n) => n.host) : config.hosts.map((h) => h.name)}
          signal={abort.current.signal}
          run={(opts, onEvent) => deps.install({ config, plan, secrets, resumeRunId, retry: opts.retry, signal: opts.signal }, onEvent)}
          onDone={(o, end) => {
            setOutcome({ o, end });
            setScreen("done");
          }}
        />
      );
      break;
    }
    case "done":
      body = (
        <Done
          outcome={outcome!.o}
          end={outcome!.end}
          adminPassword={passwordSource}
          configPath={savedPath}
          stateDir={config.stateDir}
          onExit={() => exit({ kind: "finished", config, plan: confirmedPlan, outcome: outcome!.o })}
        />
      );
      break;
  }
  return <TermProvider value={term}>{body}</TermProvider>;
}
