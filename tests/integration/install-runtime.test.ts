// host.containerd-config and host.kubelet-unit against real SSH test hosts (no systemd, no containerd): exact files in
// each host's own root, notes instead of restarts, idempotent applies, dry-run without writes, verify after an edit.
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { soloReader, soloWriter } from "../../installer/src/executor/testing/solo.js";
import { testNode, testPlan } from "../../installer/src/plan/testing.js";
import { mkdtemp, rm } from "node:fs/promises";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import type { SshConnector } from "../../installer/src/adapters/ssh/client.js";
import { labConnector, snapshotRoot } from "./step-hosts.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import type { HostSession } from "../../installer/src/probe/ports.js";
import type { Plan } from "../../installer/src/plan/types.js";
import { execute, type ExecuteOptions } from "../../installer/src/executor/executor.js";
import { sessionHandle, sessionHosts } from "../../installer/src/executor/contexts.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";
import { Journal, JOURNAL_FILE } from "../../installer/src/state/journal.js";
import { CONTAINERD_APPLIED_STAMP, CONTAINERD_CONFIG_FILE, hostContainerdConfig } from "../../installer/src/steps/host/containerd-config.js";
import { hostKubeletUnit, KUBEADM_DROPIN_FILE, KUBELET_DEFAULTS_FILE, KUBELET_UNIT_FILE, KUBELET_UNIT_STAMP } from "../../installer/src/steps/host/kubelet-unit.js";
import type { Step } from "../../installer/src/steps/types.js";

const run = promisify(execFile);
const NAMES = ["rt-01", "rt-02"];
const LABELS: Record<string, Record<string, string>> = {
  "rt-01": { "omstack.io/rack": "A", "node-role.kubernetes.io/worker": "" },
  "rt-02": { "omstack.io/rack": "B", "topology.kubernetes.io/zone": "z2" },
};

// What the files must hold, written out here (not rendered by the code under test).
const CONTAINERD_TOML = `# Managed by omstack (host.containerd-config); edits here are overwritten on the next install.
# No registry mirror is configured: images come from the bundle, imported before they are needed.
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "/etc/cni/net.d"

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
`;
const HEADER = "# Managed by omstack (host.kubelet-unit); edits here are overwritten on the next install.\n";
const EXTRA_ARGS: Record<string, string> = {
  "rt-01": `${HEADER}KUBELET_EXTRA_ARGS="--hostname-override=rt-01 --node-labels=omstack.io/rack=A"\n`,
  "rt-02": `${HEADER}KUBELET_EXTRA_ARGS="--hostname-override=rt-02 --node-labels=omstack.io/rack=B,topology.kubernetes.io/zone=z2"\n`,
};

let lab: TestLab;
let work: string;
let connector: SshConnector;
let specs: Record<string, HostSpec>;
const sessions: HostSession[] = [];


const PLAN: Plan = testPlan(
  NAMES.map((host) => testNode(host, { labels: LABELS[host]! })),
  { bundle: { version: null, cudaVersion: null, kubernetesVersion: "v1.34.4", containerdVersion: null } },
);

function runtimeSteps(): Step<Plan>[] {
  const steps = [hostContainerdConfig({ restrictOomScoreAdj: true }), hostKubeletUnit()];
  for (const s of steps) s.targets(PLAN);
  return steps;
}

function exec(o: Partial<ExecuteOptions<Plan>> & { events?: ExecutorEvent[] } = {}) {
  const events = o.events ?? [];
  return execute<Plan>({
    steps: runtimeSteps(),
    plan: PLAN,
    hosts: sessionHosts((name) => connector.open(specs[name]!)),
    stateDir: join(work, "state"),
    onEvent: (e) => events.push(e),
    ...o,
  });
}

async function ssh(host: string, command: string): Promise<string> {
  return (await run("ssh", lab.sshArgs(host, [command]))).stdout;
}


const inRoot = (host: string, path: string) => join(lab.host(host).rootDir, path);
const notesOf = (events: ExecutorEvent[], host: string) => events.filter((e): e is Extract<ExecutorEvent, { type: "step-note" }> => e.type === "step-note" && e.host === host).map((e) => `${e.stepId}: ${e.message}`);

async function reader(host: string) {
  const session = await connector.open(specs[host]!);
  sessions.push(session);
  const handle = sessionHandle(host, session);
  return { read: soloReader(handle.reader({ log: () => {}, note: () => {} })), write: soloWriter(handle.writer({ log: () => {}, note: () => {} })) };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "omstack-runtime-it-"));
  lab = await startTestHosts(NAMES.map((name) => ({ name })), { runDir: work });
  ({ connector, specs } = await labConnector(lab));
});

afterAll(async () => {
  for (const s of sessions) s.close();
  await lab?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("containerd configuration and kubelet unit over SSH", () => {
  it("dry-run describes both steps per host and writes nothing: no host file changes, no journal", async () => {
    const before = NAMES.map((h) => snapshotRoot(lab.host(h).rootDir));
    const events: ExecutorEvent[] = [];
    const r = await exec({ dryRun: true, events });
    expect(r.status, JSON.stringify(events.filter((e) => e.type === "step-failed"))).toBe("succeeded");
    const planned = events.filter((e): e is Extract<ExecutorEvent, { type: "step-planned" }> => e.type === "step-planned");
    expect(planned.map((e) => `${e.stepId} ${e.host} ${e.willApply}`).sort()).toEqual(["host.containerd-config rt-01 true", "host.containerd-config rt-02 true", "host.kubelet-unit rt-01 true", "host.kubelet-unit rt-02 true"]);
    expect(planned.find((e) => e.stepId === "host.containerd-config")!.lines).toContain("    SystemdCgroup = true");
    expect(planned.find((e) => e.stepId === "host.kubelet-unit" && e.host === "rt-02")!.lines).toContain(`  KUBELET_EXTRA_ARGS="--hostname-override=rt-02 --node-labels=omstack.io/rack=B,topology.kubernetes.io/zone=z2"`);
    expect(NAMES.map((h) => snapshotRoot(lab.host(h).rootDir))).toEqual(before);
    expect(existsSync(join(work, "state", JOURNAL_FILE))).toBe(false);
  });

  it("applies on both hosts: exact files 0644 in each host's root, notes for the missing containerd and systemd", async () => {
    const events: ExecutorEvent[] = [];
    const r = await exec({ events });
    expect(r.status, JSON.stringify(events.filter((e) => e.type === "step-failed"))).toBe("succeeded");
    for (const h of NAMES) {
      expect(readFileSync(inRoot(h, CONTAINERD_CONFIG_FILE), "utf8")).toBe(CONTAINERD_TOML);
      expect(readFileSync(inRoot(h, KUBELET_DEFAULTS_FILE), "utf8")).toBe(EXTRA_ARGS[h]);
      expect(readFileSync(inRoot(h, KUBELET_UNIT_FILE), "utf8")).toContain("\n[Service]\nExecStart=/usr/local/bin/kubelet\n");
      expect(readFileSync(inRoot(h, KUBEADM_DROPIN_FILE), "utf8")).toContain("\nExecStart=\nExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n");
      for (const f of [CONTAINERD_CONFIG_FILE, KUBELET_UNIT_FILE, KUBEADM_DROPIN_FILE, KUBELET_DEFAULTS_FILE]) expect(lstatSync(inRoot(h, f)).mode & 0o7777, f).toBe(0o644);
      // Nothing was restarted or reloaded, so no stamp claims it was.
      expect(existsSync(inRoot(h, CONTAINERD_APPLIED_STAMP))).toBe(false);
      expect(existsSync(inRoot(h, KUBELET_UNIT_STAMP))).toBe(false);
      expect(notesOf(events, h)).toEqual([
        expect.stringMatching(/^host\.containerd-config: containerd not installed: config written, service not restarted/),
        expect.stringMatching(/^host\.kubelet-unit: systemd is not PID 1 on this host \(no \/run\/systemd\/system\): kubelet unit written, systemctl daemon-reload not run/),
      ]);
    }
    const j = Journal.open(join(work, "state"));
    try {
      expect(j.steps(r.runId!).map((x) => `${x.stepId} ${x.host} ${x.status}`).sort()).toEqual(["host.containerd-config rt-01 verified", "host.containerd-config rt-02 verified", "host.kubelet-unit rt-01 verified", "host.kubelet-unit rt-02 verified"]);
    } finally {
      j.close();
    }
  });

  it("applying again leaves every host byte for byte the same (directly and through a second run, which skips)", async () => {
    const before = NAMES.map((h) => snapshotRoot(lab.host(h).rootDir));
    const steps = runtimeSteps();
    for (const h of NAMES) {
      const ctx = await reader(h);
      for (const s of steps) {
        expect(await s.check(ctx.read), `${s.id} ${h}`).toBe("done");
        await s.apply(ctx.write);
      }
    }
    expect(NAMES.map((h) => snapshotRoot(lab.host(h).rootDir))).toEqual(before);
    const events: ExecutorEvent[] = [];
    const r = await exec({ events });
    expect(r.status).toBe("succeeded");
    expect(events.filter((e) => e.type === "step-skipped")).toHaveLength(4);
    expect(events.filter((e) => e.type === "step-started")).toHaveLength(0);
    expect(NAMES.map((h) => snapshotRoot(lab.host(h).rootDir))).toEqual(before);
  });

  it("verify fails once someone edits a file; check says pending; the next run repairs only that host", async () => {
    const { read } = await reader("rt-02");
    const [containerd, kubelet] = runtimeSteps() as [Step<Plan>, Step<Plan>];
    await ssh("rt-02", `sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' ${CONTAINERD_CONFIG_FILE}; echo 'KUBELET_EXTRA_ARGS=--v=9' > ${KUBELET_DEFAULTS_FILE}`);
    await expect(containerd.verify(read)).rejects.toMatchObject({ code: "E_STEP_VERIFY", host: "rt-02", message: expect.stringContaining(`${CONTAINERD_CONFIG_FILE} must hold omstack's containerd configuration`) });
    await expect(kubelet.verify(read)).rejects.toMatchObject({ code: "E_STEP_VERIFY", host: "rt-02", message: expect.stringContaining(`${KUBELET_DEFAULTS_FILE} (content)`) });
    expect(await containerd.check(read)).toEqual({ pending: `${CONTAINERD_CONFIG_FILE} is missing or differs` });
    expect(await kubelet.check(read)).toEqual({ pending: `${KUBELET_DEFAULTS_FILE}: different content` });

    const events: ExecutorEvent[] = [];
    const r = await exec({ events });
    expect(r.status).toBe("succeeded");
    expect(events.filter((e) => e.type === "step-started").map((e) => `${(e as { stepId: string }).stepId} ${(e as { host: string }).host}`)).toEqual(["host.containerd-config rt-02", "host.kubelet-unit rt-02"]);
    expect(readFileSync(inRoot("rt-02", CONTAINERD_CONFIG_FILE), "utf8")).toBe(CONTAINERD_TOML);
    expect(readFileSync(inRoot("rt-02", KUBELET_DEFAULTS_FILE), "utf8")).toBe(EXTRA_ARGS["rt-02"]);
    await expect(containerd.verify(read)).resolves.toBeUndefined();
    await expect(kubelet.verify(read)).resolves.toBeUndefined();
  });
});
