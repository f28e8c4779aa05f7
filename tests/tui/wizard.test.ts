// The whole wizard driven by keys (ink-testing-library), with fakes only for SSH and the install engine: its answers
// saved to omstack.yaml and loaded again give the same InstallConfig, and the same Plan through preflightAndPlan.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createElement } from "react";
import { describe, expect, it } from "vitest";
import { loadInstallConfig, pipelineInputFor, saveInstallConfig, type InstallConfig } from "../../installer/src/config/installConfig.js";
import { preflightAndPlan } from "../../installer/src/plan/pipeline.js";
import { DEFAULT_BUNDLE_VERSIONS } from "../../installer/src/plan/defaults.js";
import type { Plan } from "../../installer/src/plan/types.js";
import { loadServiceDir } from "../../installer/src/preflight/services.fs.js";
import { host } from "../../installer/src/preflight/testing/hosts.js";
import type { DiskFacts, HostFacts } from "../../installer/src/probe/facts.js";
import { Wizard, type WizardDeps, type WizardResult } from "../../installer/src/tui/Wizard.js";
import { isAscii, KEY, press, sizeProblems, waitFor } from "../../installer/src/tui/testing.js";
import { render } from "ink-testing-library";

const root = join(import.meta.dirname, "../..");
const services = loadServiceDir(join(root, "services"));
const bundle = { version: null, ...DEFAULT_BUNDLE_VERSIONS };
const dataDisk: DiskFacts = { name: "nvme1n1", sizeBytes: 3840 * 10 ** 9, rotational: false, transport: "nvme", type: "disk", model: null, fstype: "xfs", mountpoints: [], children: [] };
const factsOf = (name: string): HostFacts => host(name, name === "node-11" ? { disks: [dataDisk] } : {});
const screensDir = join(root, "tests/.run/tui-screens");

function deps(over: Partial<WizardDeps>, saved: { path: string }): WizardDeps {
  return {
    loadBundle: async () => ({ status: "none" }),
    previousRun: null,
    checkKey: async () => null,
    agentSocket: null,
    probe: async (hosts, _s, _o, on) => {
      for (const h of hosts) {
        on({ type: "host-started", host: h.name });
        on({ type: "host-done", host: h.name, ms: 5, facts: factsOf(h.name) });
      }
    },
    evaluate: (config, facts) => preflightAndPlan(pipelineInputFor(config, facts, bundle, services)),
    generatePassword: () => "generated-Pw-0001",
    adminUser: "admin",
    dryRun: true,
    saveConfig: async (c) => (await saveInstallConfig(saved.path, c), saved.path),
    // DRY-RUN STUB: stands in for the install engine; emits the events a dry run of two steps would.
    install: async (req, on) => {
      const steps = [{ id: "host.swap-off", title: "Turn swap off" }, { id: "host.sysctls", title: "Kernel settings" }];
      on({ type: "run-started", dryRun: true, steps, logDir: null });
      for (const s of steps) for (const n of req.plan!.nodes) on({ type: "step-planned", stepId: s.id, host: n.host, willApply: true, reason: "dry run stub" });
      on({ type: "run-finished", status: "succeeded", durationMs: 10 });
      return { consoleUrl: "https://10.0.0.11:9443", kubeconfigPath: "/var/lib/omstack/kubeconfig", adminUser: "admin", logPath: "/tmp/omstack-install.log" };
    },
    ...over,
  };
}

const initial: InstallConfig = { clusterName: "omstack", hosts: [], controlPlanes: null, virtualIP: null, bypassedChecks: [], adminPassword: "generate", bundlePath: null, stateDir: "/var/lib/omstack", network: { podSubnet: null, serviceSubnet: null, controlPlaneEndpoint: null } };

describe("the wizard", () => {
  it("walks Welcome → Done; omstack.yaml reloads to the same InstallConfig and the same Plan", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-wizard-"));
    const saved = { path: join(dir, "omstack.yaml") };
    const results: WizardResult[] = [];
    let confirmed: { config: InstallConfig; plan: Plan } | null = null;
    const r = render(createElement(Wizard, { deps: deps({}, saved), initial, caps: { ascii: false, color: false }, size: { columns: 80, rows: 24 }, onConfig: (config, plan) => (confirmed = { config, plan }), onExit: (x) => results.push(x) }));
    const shots: Record<string, string> = {};
    const shot = (name: string) => {
      const f = r.lastFrame()!;
      expect(sizeProblems(f), name).toEqual([]);
      shots[name] = f;
    };
    await waitFor(r.lastFrame, (f) => f.includes("Cluster name"));
    shot("1-welcome");
    await press(r.stdin, ...Array(7).fill(KEY.backspace), "lab", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Add host(s)"));
    await press(r.stdin, "10.0.0.11-12", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("[2 so far]"));
    shot("2-hosts");
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("SSH user"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("How does root log in?"));
    await press(r.stdin, "1");
    await waitFor(r.lastFrame, (f) => f.includes("Private key file"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Bastion"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("all 2 hosts answered"));
    shot("3-probe");
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("step 4/7: Preflight"));
    shot("4-preflight");
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Cluster lab: 2 nodes"));
    await press(r.stdin, "w");
    await waitFor(r.lastFrame, (f) => f.includes("Disks that hold data"));
    await press(r.stdin, "x", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("1 disk will be ERASED: node-11:/dev/nvme1n1"));
    await press(r.stdin, "v");
    await waitFor(r.lastFrame, (f) => f.includes("Virtual IP"));
    await press(r.stdin, "10.0.0.250", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("virtual IP: 10.0.0.250"));
    shot("5-plan");
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Type the cluster name (lab)"));
    shot("5-plan-confirm-erase");
    await press(r.stdin, "lab", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Dry run finished"));
    shot("6-install");
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("step 7/7: Done"));
    shot("7-done");
    await press(r.stdin, KEY.enter);
    expect(results).toHaveLength(1);
    const res = results[0]!;
    if (res.kind !== "finished") throw new Error("wizard did not finish");

    // the interactive answers
    expect(res.config).toMatchObject({ clusterName: "lab", virtualIP: "10.0.0.250", controlPlanes: null, adminPassword: "generate" });
    expect(res.config.hosts.map((h) => [h.name, h.address, h.auth.kind, h.wipe])).toEqual([["node-11", "10.0.0.11", "key", ["nvme1n1"]], ["node-12", "10.0.0.12", "key", []]]);
    // dry run: no password is generated (nothing is installed); Done shows what a real run would produce
    expect(Object.values(shots).join("\n")).not.toContain("generated-Pw-0001");
    expect(shots["7-done"]).toContain("Dry run finished: nothing was changed");
    expect(shots["7-done"]).toContain("Admin console: https://10.0.0.11:9443");

    // the same config and plan from the saved file
    const loaded = await loadInstallConfig(saved.path, async () => null, { stateDir: "/elsewhere" });
    expect(loaded).toEqual(res.config);
    const facts = res.config.hosts.map((h) => factsOf(h.name));
    const fromFile = preflightAndPlan(pipelineInputFor(loaded, facts, bundle, services)).plan;
    expect(fromFile).toEqual(confirmed!.plan);
    expect(fromFile.nodes.find((n) => n.host === "node-11")!.disks.find((d) => d.name === "nvme1n1")!.wipe).toBe(true);

    await mkdir(screensDir, { recursive: true });
    for (const [name, frame] of Object.entries(shots)) await writeFile(join(screensDir, `${name}.txt`), frame + "\n");
  });

  it("a real run: the generated password is shown once on Plan review and given to the install; Done only refers to it", async () => {
    const saved = { path: join(await mkdtemp(join(tmpdir(), "omstack-wizard-")), "omstack.yaml") };
    const given: (string | null)[] = [];
    const frames: string[] = [];
    const results: WizardResult[] = [];
    const real = deps(
      {
        dryRun: false,
        install: async (req, on) => {
          given.push(req.secrets.adminPassword);
          const steps = [{ id: "host.swap-off", title: "Turn swap off" }];
          on({ type: "run-started", dryRun: false, steps, logDir: "/var/lib/omstack/logs/run-1" });
          for (const n of req.plan!.nodes) on({ type: "step-verified", stepId: "host.swap-off", host: n.host, durationMs: 5 });
          on({ type: "run-finished", status: "succeeded", durationMs: 10 });
          return { consoleUrl: "https://10.0.0.11:9443", kubeconfigPath: "/var/lib/omstack/kubeconfig", adminUser: "admin", logPath: "/tmp/omstack-install.log", runLogDir: "/var/lib/omstack/logs/run-1" };
        },
      },
      saved,
    );
    const r = render(createElement(Wizard, { deps: real, initial, caps: { ascii: false, color: false }, size: { columns: 80, rows: 24 }, onExit: (x) => results.push(x) }));
    const keep = () => frames.push(r.lastFrame()!);
    await waitFor(r.lastFrame, (f) => f.includes("Cluster name"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Add host(s)"));
    await press(r.stdin, "10.0.0.11-12", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("[2 so far]"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("SSH user"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("How does root log in?"));
    await press(r.stdin, "1");
    await waitFor(r.lastFrame, (f) => f.includes("Private key file"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Bastion"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("all 2 hosts answered"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("step 4/7: Preflight"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("Admin password: generated when you start the install, shown once here"));
    await press(r.stdin, KEY.enter);
    let f = await waitFor(r.lastFrame, (x) => x.includes("password: generated-Pw-0001"));
    expect(f).toContain("user:     admin");
    expect(sizeProblems(f)).toEqual([]);
    await mkdir(screensDir, { recursive: true });
    await writeFile(join(screensDir, "5-plan-password.txt"), f + "\n");
    // Esc and confirming again show the same password (one password per wizard, never a second one)
    await press(r.stdin, KEY.esc);
    await waitFor(r.lastFrame, (x) => !x.includes("generated-Pw-0001") && x.includes("Enter install"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("password: generated-Pw-0001"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("Install finished"));
    keep();
    await press(r.stdin, KEY.enter);
    f = await waitFor(r.lastFrame, (x) => x.includes("step 7/7: Done"));
    keep();
    await writeFile(join(screensDir, "7-done-real.txt"), f + "\n");
    expect(given).toEqual(["generated-Pw-0001"]);
    expect(f).toContain("OMStack is installed");
    expect(f).toContain("Admin console: https://10.0.0.11:9443");
    expect(f).toContain("Admin user:    admin (password: generated, shown once on the Plan screen)");
    expect(f).toContain("export KUBECONFIG=/var/lib/omstack/kubeconfig");
    expect(f).toContain("kubectl get nodes");
    expect(f).toContain("Install log:   /tmp/omstack-install.log");
    for (const x of frames) expect(x).not.toContain("generated-Pw-0001");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, KEY.enter);
    expect(results[0]).toMatchObject({ kind: "finished" });
  });

  it("Ctrl-C leaves cleanly from any screen, and aborts a running install (resumable)", async () => {
    const saved = { path: join(await mkdtemp(join(tmpdir(), "omstack-wizard-")), "omstack.yaml") };
    const welcome: WizardResult[] = [];
    const r1 = render(createElement(Wizard, { deps: deps({}, saved), initial, caps: { ascii: true, color: false }, size: { columns: 80, rows: 24 }, onExit: (x) => welcome.push(x) }));
    await waitFor(r1.lastFrame, (f) => f.includes("Cluster name"));
    expect(isAscii(r1.lastFrame()!)).toBe(true);
    await press(r1.stdin, KEY.ctrlC);
    expect(welcome).toEqual([{ kind: "cancelled", screen: "welcome", config: initial, installStarted: false }]);

    // resume path: Welcome offers the previous run; the install starts; Ctrl-C aborts its signal
    let signal: AbortSignal | null = null;
    const out: WizardResult[] = [];
    const hanging = deps({ previousRun: { runId: 3, startedAt: "2026-01-05 10:00", status: "interrupted", stepsDone: 2, stepsTotal: 9 }, install: (req) => ((signal = req.signal), new Promise(() => undefined)) }, saved);
    const r2 = render(createElement(Wizard, { deps: hanging, initial, caps: { ascii: false, color: false }, size: { columns: 80, rows: 24 }, onExit: (x) => out.push(x) }));
    await waitFor(r2.lastFrame, (f) => f.includes("Resume run 3"));
    await press(r2.stdin, KEY.enter);
    await waitFor(r2.lastFrame, (f) => f.includes("step 6/7: Install"));
    await press(r2.stdin, KEY.ctrlC);
    expect(signal!.aborted).toBe(true);
    expect(out[0]).toMatchObject({ kind: "cancelled", screen: "install", installStarted: true });
  });
});
