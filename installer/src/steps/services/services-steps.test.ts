// services.releases through the real executor, with a recording Helm client and an in-memory control plane that
// answers `kubectl get pods`: the exact release per service, the values it gets, skip when deployed with the same hash,
// recovery of releases helm left pending, and failures that keep helm's output.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recordingHelm, type RecordingHelm, type RecordingHelmOptions } from "../../adapters/helm/recordingHelm.js";
import { CommandError } from "../../errors.js";
import { execute } from "../../executor/executor.js";
import type { ExecutorEvent } from "../../executor/events.js";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import { testNode, testPlan } from "../../plan/testing.js";
import type { Plan, PlanService } from "../../plan/types.js";
import type { BundleParts } from "../bundleParts.js";
import { parseServicePods, unreadyPods } from "./health.js";
import { missingImages, renderedImages } from "./images.js";
import { bundleValues, INPUTS_LABEL, mergeValues, planReleases, releaseHash, releaseState, type PlannedRelease } from "./releasePlan.js";
import { servicesReleases } from "./releases.js";

const ECHO_IMAGE = { name: "omstack.lab/echo:v1", digest: `sha256:${"e1".repeat(32)}`, blobs: [] };
const TEMPLATE = readFileSync(join(import.meta.dirname, "fixtures/omstack-echo-template.yaml"), "utf8");

function parts(over: Partial<BundleParts> = {}): BundleParts {
  const files: Record<string, string> = { "charts/omstack-echo-0.1.0.tgz": "c0".repeat(32), "charts/omstack-metrics-1.2.0.tgz": "d0".repeat(32) };
  return {
    version: "0.1.0-lab",
    part: (path) => (files[path] ? { path, source: `/state/bundles/b/${path}`, sha256: files[path]!, size: 1000, mode: 0o644 } : null),
    images: [ECHO_IMAGE, { name: "registry.k8s.io/pause:3.10.1", digest: `sha256:${"0a".repeat(32)}`, blobs: [] }],
    charts: [{ name: "omstack-echo", version: "0.1.0", path: "charts/omstack-echo-0.1.0.tgz" }, { name: "omstack-metrics", version: "1.2.0", path: "charts/omstack-metrics-1.2.0.tgz" }],
    ...over,
  };
}

function plan(services: PlanService[]): Plan {
  return testPlan([testNode("lab1", { roles: ["control-plane", "worker"], address: "198.19.0.11" }), testNode("lab2", { address: "198.19.0.12" })], {
    cluster: { ...testPlan([]).cluster, kubernetesVersion: "1.34.4" },
    services,
  });
}

const ECHO: PlanService = { name: "echo", enabled: true, reason: "lab", values: { replicas: 2, greeting: "hi" } };
const BATCH: PlanService = { name: "batch", enabled: true, reason: "enough CPUs", values: {} };
const AI: PlanService = { name: "ai", enabled: false, reason: "no GPU", values: {} };

/** A pod as kubectl prints it (the fields the health check reads). */
function pod(name: string, o: { ready?: boolean; phase?: string; waiting?: string; deleting?: boolean } = {}) {
  const ready = o.ready ?? true;
  return {
    metadata: { name, namespace: "omstack-echo", ...(o.deleting ? { deletionTimestamp: "2026-12-04T23:40:00Z" } : {}) },
    status: {
      phase: o.phase ?? (ready ? "Running" : "Pending"),
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: [{ name: "echo", state: o.waiting ? { waiting: { reason: o.waiting } } : { running: { startedAt: "2026-12-04T23:39:00Z" } } }],
    },
  };
}

function world(helmOpts: RecordingHelmOptions = {}) {
  const hosts = new MemoryHosts(["lab1", "lab2"]);
  hosts.put("lab1", "/etc/kubernetes/admin.conf", "apiVersion: v1\n", { mode: 0o600 });
  hosts.commands.add("kubectl");
  let pods: unknown[] = [pod("echo-7d9c-a"), pod("echo-7d9c-b")];
  hosts.commandHandler = (_h, cmd) => (/ -n omstack-echo get pods -o json /.test(cmd) ? { stdout: JSON.stringify({ kind: "List", items: pods }) } : { stdout: JSON.stringify({ items: [] }) });
  const helm = recordingHelm({ render: () => TEMPLATE, ...helmOpts });
  const stateDir = tempState();
  const events: ExecutorEvent[] = [];
  const run = (p: Plan, o: { helm?: RecordingHelm; bundle?: BundleParts; dryRun?: boolean } = {}) =>
    execute({
      steps: [servicesReleases({ helm: o.helm ?? helm, parts: o.bundle ?? parts(), readyTimeoutMs: 40, pollMs: 5 })],
      plan: p,
      hosts,
      stateDir,
      hostLockDir: false,
      onEvent: (e) => events.push(e),
      ...(o.dryRun ? { dryRun: true } : {}),
    });
  return { hosts, helm, run, events, setPods: (p: unknown[]) => (pods = p) };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempState = () => {
  const d = mkdtempSync(join(tmpdir(), "omstack-svc-"));
  dirs.push(d);
  return d;
};

const upgrades = (h: RecordingHelm) => h.calls.flatMap((c) => (c.op === "upgradeInstall" ? [c.req] : []));

describe("services.releases", () => {
  it("installs each enabled service that has a chart, with the plan's values, the bundle's chart and a hash label", async () => {
    const w = world();
    const r = await w.run(plan([ECHO, BATCH, AI]));
    expect(r.status).toBe("succeeded");
    expect(r.outcomes).toEqual([{ stepId: "services.releases", host: "lab1", status: "verified" }]);
    const ups = upgrades(w.helm);
    expect(ups).toHaveLength(1);
    const up = ups[0]!;
    expect(up).toEqual({
      release: "echo",
      namespace: "omstack-echo",
      chartPath: "/state/bundles/b/charts/omstack-echo-0.1.0.tgz",
      values: { replicas: 2, greeting: "hi" },
      labels: { [INPUTS_LABEL]: expect.stringMatching(/^[0-9a-f]{48}$/), "omstack.io/managed-by": "omstack", "omstack.io/service": "echo" },
      timeoutMs: 600_000,
    });
    // The chart was rendered with exactly these values first (image check), for the plan's Kubernetes version.
    const order = w.helm.calls.map((c) => c.op);
    expect(order.indexOf("template")).toBeLessThan(order.indexOf("upgradeInstall"));
    expect(w.helm.calls.find((c) => c.op === "template")).toMatchObject({ req: { release: "echo", namespace: "omstack-echo", values: { replicas: 2, greeting: "hi" }, kubeVersion: "1.34.4" } });
    // batch is enabled but the bundle has no omstack-batch chart: said, not fatal; ai is disabled: nothing.
    expect(w.events).toContainEqual(expect.objectContaining({ type: "step-note", message: expect.stringMatching(/enabled service\(s\) batch: bundle 0\.1\.0-lab carries no chart for them/) }));
    expect(JSON.stringify(w.helm.calls)).not.toMatch(/"ai"|omstack-ai|omstack-batch"/);
    // Pods were checked on the control plane, read-only, with admin.conf.
    expect(w.hosts.queries.some((q) => q.host === "lab1" && q.command === "kubectl --kubeconfig /etc/kubernetes/admin.conf -n omstack-echo get pods -o json --request-timeout=30s")).toBe(true);
    expect(w.hosts.writes).toEqual([]);
  });

  it("skips a release deployed with the same chart and values, and upgrades when the plan's values change", async () => {
    const w = world();
    await w.run(plan([ECHO]));
    const before = w.helm.writes().length;
    const again = await w.run(plan([ECHO]));
    expect(again.outcomes[0]!.status).toBe("skipped");
    expect(w.helm.writes().length).toBe(before);

    const changed = await w.run(plan([{ ...ECHO, values: { replicas: 3, greeting: "hi" } }]));
    expect(changed.outcomes[0]!.status).toBe("verified");
    const ups = upgrades(w.helm);
    expect(ups).toHaveLength(2);
    expect(ups[1]!.values).toEqual({ replicas: 3, greeting: "hi" });
    expect(ups[1]!.labels[INPUTS_LABEL]).not.toBe(ups[0]!.labels[INPUTS_LABEL]);
    expect(w.helm.releases.get("omstack-echo/echo")!.revision).toBe(2);
  });

  it("re-applies when the live release differs although the journal says done (someone ran helm by hand)", async () => {
    const w = world();
    await w.run(plan([ECHO]));
    const live = w.helm.releases.get("omstack-echo/echo")!;
    w.helm.releases.set("omstack-echo/echo", { ...live, labels: { ...live.labels, [INPUTS_LABEL]: "0".repeat(48) }, values: { replicas: 9 } });
    const r = await w.run(plan([ECHO]));
    expect(r.outcomes[0]!.status).toBe("verified");
    expect(upgrades(w.helm)).toHaveLength(2);
  });

  it("a failed release reports helm's command, exit status and output", async () => {
    const helmErr = new CommandError("E_HELM_FAILED", "`helm upgrade echo` exited with status 1: release echo failed, and has been uninstalled due to rollback-on-failure being set: resource Deployment/omstack-echo/echo not ready", "helm upgrade echo /state/bundles/b/charts/omstack-echo-0.1.0.tgz --install …", 1, "Error: release echo failed …\ncontext deadline exceeded");
    const w = world({ fail: (c) => (c.op === "upgradeInstall" ? helmErr : null) });
    const r = await w.run(plan([ECHO]));
    expect(r.status).toBe("failed");
    const failed = w.events.find((e) => e.type === "step-failed");
    expect(failed).toMatchObject({
      host: "lab1",
      error: { code: "E_HELM_FAILED", message: expect.stringContaining("rollback-on-failure"), command: expect.stringMatching(/^helm upgrade echo /), exitStatus: 1, outputTail: expect.stringContaining("context deadline exceeded") },
    });
  });

  it("refuses a chart that would run an image the bundle does not carry, before installing anything", async () => {
    const w = world({ render: () => TEMPLATE.replace("omstack.lab/echo:v1", "docker.io/library/nginx:1.27") });
    const r = await w.run(plan([ECHO]));
    expect(r.status).toBe("failed");
    expect(w.events.find((e) => e.type === "step-failed")).toMatchObject({ error: { code: "E_SERVICE_IMAGE_MISSING", message: expect.stringContaining("docker.io/library/nginx:1.27, which bundle 0.1.0-lab does not carry") } });
    expect(w.helm.writes()).toEqual([]);
  });

  it("removes a release stuck in pending-install, and rolls back one stuck in pending-upgrade, before installing", async () => {
    const stuck = (status: string, revision: number) => ({ name: "echo", namespace: "omstack-echo", chart: "omstack-echo", version: "0.1.0", revision, status, labels: { status } });
    const a = world({ existing: [stuck("pending-install", 1)] });
    expect((await a.run(plan([ECHO]))).status).toBe("succeeded");
    expect(a.helm.writes().map((c) => c.op)).toEqual(["uninstall", "upgradeInstall"]);
    expect(a.events).toContainEqual(expect.objectContaining({ type: "step-note", message: expect.stringContaining("stuck in pending-install") }));
    const b = world({ existing: [stuck("pending-upgrade", 3)] });
    expect((await b.run(plan([ECHO]))).status).toBe("succeeded");
    expect(b.helm.writes().map((c) => c.op)).toEqual(["rollback", "upgradeInstall"]);
  });

  it("fails with the pods that are not ready and why, after the wait", async () => {
    const w = world();
    w.setPods([pod("echo-a"), pod("echo-b", { ready: false, waiting: "ErrImageNeverPull" })]);
    const r = await w.run(plan([ECHO]));
    expect(r.status).toBe("failed");
    expect(w.events.find((e) => e.type === "step-failed")).toMatchObject({
      error: { code: "E_SERVICE_NOT_READY", message: expect.stringContaining("pod omstack-echo/echo-b is Pending (ErrImageNeverPull)"), remedy: expect.stringContaining("nothing is pulled offline") },
    });
  });

  it("installs platform add-ons first, in their own namespaces", async () => {
    const w = world();
    const steps = [servicesReleases({ helm: w.helm, parts: parts(), addons: [{ name: "metrics", chart: "omstack-metrics", namespace: "omstack-system", values: { interval: "30s" } }], readyTimeoutMs: 40, pollMs: 5 })];
    const r = await execute({ steps, plan: plan([ECHO]), hosts: w.hosts, stateDir: tempState(), hostLockDir: false });
    expect(r.status).toBe("succeeded");
    expect(upgrades(w.helm).map((u) => [u.release, u.namespace, u.chartPath, u.values])).toEqual([
      ["metrics", "omstack-system", "/state/bundles/b/charts/omstack-metrics-1.2.0.tgz", { interval: "30s" }],
      ["echo", "omstack-echo", "/state/bundles/b/charts/omstack-echo-0.1.0.tgz", { replicas: 2, greeting: "hi" }],
    ]);
  });

  it("gives a chart that asks for them (omstack.io/bundle-values) the bundle version and its images", async () => {
    const w = world({ chartYaml: () => 'apiVersion: v2\nname: omstack-echo\nversion: 0.1.0\nannotations:\n  omstack.io/bundle-values: "true"\n' });
    await w.run(plan([ECHO]));
    expect(upgrades(w.helm)[0]!.values).toEqual({
      replicas: 2,
      greeting: "hi",
      global: { omstack: { bundleVersion: "0.1.0-lab", images: { "omstack.lab/echo": "omstack.lab/echo:v1", "registry.k8s.io/pause": "registry.k8s.io/pause:3.10.1" } } },
    });
  });

  it("in a dry run changes nothing and says the helm command; before the kubeconfig exists it says so", async () => {
    const w = world({ unavailable: "the admin kubeconfig /state/kubeconfig does not exist yet (k8s.kubeconfig saves it)" });
    const r = await w.run(plan([ECHO]), { dryRun: true });
    expect(r.status).toBe("succeeded");
    const planned = w.events.find((e) => e.type === "step-planned");
    expect(planned).toMatchObject({ willApply: true, reason: expect.stringContaining("helm cannot run yet: the admin kubeconfig /state/kubeconfig does not exist yet") });
    expect((planned as { lines: string[] }).lines[0]).toMatch(/^on this machine: helm upgrade --install echo \/state\/bundles\/b\/charts\/omstack-echo-0\.1\.0\.tgz \(omstack-echo 0\.1\.0\) -n omstack-echo --create-namespace --rollback-on-failure --wait=watcher --timeout 600s with the plan's values for echo: \{"replicas":2,"greeting":"hi"\}/);
    expect(w.helm.writes()).toEqual([]);
    expect(w.hosts.writerRequests.size).toBe(0);
  });

  it("fails, saying why, when helm cannot run for real", async () => {
    const w = world({ unavailable: "the bundle carries no bin/helm" });
    const r = await w.run(plan([ECHO]));
    expect(w.events.find((e) => e.type === "step-failed")).toMatchObject({ error: { code: "E_HELM_UNAVAILABLE", remedy: expect.stringContaining("bundle that carries bin/helm") } });
    expect(r.status).toBe("failed");
  });

  it("has nothing to do without enabled services", async () => {
    const w = world();
    expect(servicesReleases({ helm: w.helm, parts: parts() }).targets(plan([AI]))).toEqual([]);
    expect(servicesReleases({ helm: w.helm, parts: parts({ charts: undefined }) }).targets(plan([]))).toEqual([]);
  });
});

describe("release planning (pure)", () => {
  const echo = (): PlannedRelease => planReleases([ECHO], parts()).releases[0]!;

  it("names the chart omstack-<service> and the namespace omstack-<service>; refuses ambiguous or missing charts", () => {
    expect(planReleases([ECHO, BATCH, AI], parts())).toEqual({
      releases: [{ kind: "service", owner: "echo", release: "echo", namespace: "omstack-echo", chart: { name: "omstack-echo", version: "0.1.0", source: "/state/bundles/b/charts/omstack-echo-0.1.0.tgz", sha256: "c0".repeat(32) }, values: { replicas: 2, greeting: "hi" } }],
      withoutChart: ["batch"],
    });
    const two = parts({ charts: [...parts().charts!, { name: "omstack-echo", version: "0.2.0", path: "charts/omstack-echo-0.2.0.tgz" }] });
    expect(() => planReleases([ECHO], two)).toThrow(/carries 2 versions of chart omstack-echo \(0\.1\.0, 0\.2\.0\)/);
    const lost = parts({ charts: [{ name: "omstack-echo", version: "0.3.0", path: "charts/omstack-echo-0.3.0.tgz" }] });
    expect(() => planReleases([ECHO], lost)).toThrow(expect.objectContaining({ code: "E_BUNDLE_PART_MISSING" }));
    expect(() => planReleases([], parts(), [{ name: "m", chart: "nope", namespace: "x" }])).toThrow(/add-on m needs chart nope/);
    expect(() => planReleases([], parts(), [{ name: "Bad_Name", chart: "omstack-metrics", namespace: "x" }])).toThrow(/not a valid release name/);
    expect(() => planReleases([], parts(), [{ name: "m", chart: "omstack-metrics", namespace: "x" }, { name: "m", chart: "omstack-echo", namespace: "x" }])).toThrow(/two releases would be named x\/m/);
  });

  it("hashes chart, place and values independent of key order", () => {
    const r = echo();
    const h = releaseHash(r, { a: 1, b: { c: 2, d: 3 } });
    expect(h).toMatch(/^[0-9a-f]{48}$/);
    expect(releaseHash(r, { b: { d: 3, c: 2 }, a: 1 })).toBe(h);
    expect(releaseHash(r, { a: 1, b: { c: 2, d: 4 } })).not.toBe(h);
    expect(releaseHash({ ...r, chart: { ...r.chart, sha256: "ff".repeat(32) } }, { a: 1, b: { c: 2, d: 3 } })).not.toBe(h);
    expect(releaseHash({ ...r, namespace: "other" }, { a: 1, b: { c: 2, d: 3 } })).not.toBe(h);
  });

  it("compares a live release with the plan", () => {
    const r = echo();
    const live = (status: string, o: { version?: string; hash?: string } = {}) => ({ name: "echo", namespace: "omstack-echo", chart: "omstack-echo", version: o.version ?? "0.1.0", revision: 2, status, labels: { [INPUTS_LABEL]: o.hash ?? "h" } });
    expect(releaseState(null, r, "h").state).toBe("install");
    expect(releaseState(live("deployed"), r, "h")).toEqual({ state: "current" });
    expect(releaseState(live("deployed", { hash: "old" }), r, "h")).toMatchObject({ state: "upgrade", why: expect.stringContaining("other values") });
    expect(releaseState(live("deployed", { version: "0.0.9" }), r, "h")).toMatchObject({ state: "upgrade", why: expect.stringContaining("runs chart omstack-echo 0.0.9; the bundle has omstack-echo 0.1.0") });
    expect(releaseState(live("failed"), r, "h")).toMatchObject({ state: "upgrade", why: expect.stringContaining("is failed") });
    expect(releaseState(live("pending-install"), r, "h").state).toBe("reinstall");
    expect(releaseState(live("pending-upgrade"), r, "h").state).toBe("unstick");
    expect(releaseState(live("pending-rollback"), r, "h").state).toBe("unstick");
  });

  it("merges values deeply, replacing arrays and scalars", () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3], e: 2 }, d: { x: 1 } })).toEqual({ a: { b: 1, c: [3], e: 2 }, d: { x: 1 } });
    expect(bundleValues("v", [{ name: "r.io/a:1", digest: "sha256:x", blobs: [] }, { name: "r.io/a:0", digest: "sha256:y", blobs: [] }])).toEqual({ global: { omstack: { bundleVersion: "v", images: { "r.io/a": "r.io/a:0" } } } });
  });
});

describe("images and pod health (pure)", () => {
  it("finds the images of a rendered chart (helm 4.1.4 template of the lab chart) and matches them to the bundle", () => {
    expect(renderedImages(TEMPLATE)).toEqual(["omstack.lab/echo:v1"]);
    expect(missingImages(["omstack.lab/echo:v1"], [ECHO_IMAGE])).toEqual([]);
    const extra = `${TEMPLATE}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers: [{name: i, image: busybox}]\n          containers: [{name: c, image: "registry.k8s.io/pause@${"sha256:" + "0a".repeat(32)}"}]\n`;
    expect(renderedImages(extra)).toEqual(["busybox", "omstack.lab/echo:v1", `registry.k8s.io/pause@sha256:${"0a".repeat(32)}`]);
    const bundle = [ECHO_IMAGE, { name: "registry.k8s.io/pause:3.10.1", digest: `sha256:${"0a".repeat(32)}`, blobs: [] }];
    // by digest it matches; busybox (docker.io/library/busybox:latest) is not in the bundle; another tag is not either
    expect(missingImages(renderedImages(extra), bundle)).toEqual(["busybox"]);
    expect(missingImages(["omstack.lab/echo:v2", "docker.io/omstack.lab/echo:v1", "not a ref!"], bundle)).toEqual(["omstack.lab/echo:v2", "docker.io/omstack.lab/echo:v1", "not a ref!"]);
  });

  it("reads pods: ready, waiting with a reason, terminating pods and finished jobs do not count", () => {
    const json = JSON.stringify({ items: [pod("a"), pod("b", { ready: false, waiting: "CrashLoopBackOff", phase: "Running" }), pod("c", { ready: false, deleting: true }), pod("d", { ready: false, phase: "Succeeded" })] });
    const pods = parseServicePods(json, "lab1");
    expect(pods.map((p) => [p.name, p.ready, p.terminating])).toEqual([["a", true, false], ["b", false, false], ["c", false, true], ["d", true, false]]);
    expect(unreadyPods("omstack-echo", pods)).toEqual(["pod omstack-echo/b is Running (CrashLoopBackOff)"]);
    expect(() => parseServicePods("nope", "lab1")).toThrow(expect.objectContaining({ code: "E_KUBE_OUTPUT" }));
    expect(() => parseServicePods("{}", "lab1")).toThrow(/did not print a pod list/);
  });

  it("reads the echo release's pods captured in the lab right after the step installed them: both ready", () => {
    const pods = parseServicePods(readFileSync(join(import.meta.dirname, "fixtures/lab-omstack-echo-pods.json"), "utf8"), "lab1");
    expect(pods.map((p) => [p.name, p.phase, p.ready, p.terminating])).toEqual([["echo-f8bddc6d9-5nhz4", "Running", true, false], ["echo-f8bddc6d9-x62c2", "Running", true, false]]);
    expect(unreadyPods("omstack-echo", pods)).toEqual([]);
  });

  it("reads the real kube-system pod list captured in the lab", () => {
    const real = readFileSync(join(import.meta.dirname, "../../../../tests/fixtures/kube/lab-v1.34.4/kube-system-pods.json"), "utf8");
    const pods = parseServicePods(real, "lab1");
    expect(pods.length).toBeGreaterThan(5);
    expect(pods.every((p) => p.name.length > 0 && typeof p.ready === "boolean")).toBe(true);
  });
});
