import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../state/journal.js";
import type { Plan, PlanNode } from "../plan/types.js";
import { adminConsoleUrl, bundleView, installOutcomeFor, previousRunOf, wholeNumber, wizardSecrets } from "./wizardDeps.js";

const node = (host: string, roles: string[], address: string | null): PlanNode => ({ host, roles, labels: {}, taints: [], disks: [], rdmaInterface: null, address, restrictOomScoreAdj: false, reasons: [] });
const planOf = (nodes: PlanNode[]) => ({ nodes }) as unknown as Plan;

describe("wizard deps", () => {
  it("previousRunOf: null without a journal or after a success; the newest unfinished apply run otherwise", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-wdeps-"));
    expect(previousRunOf(dir, 3)).toBeNull();
    const j = Journal.open(dir);
    j.acquireLock("test");
    const ok = j.startRun({ mode: "apply", options: {}, planHash: null });
    j.finishRun(ok, "succeeded", 10);
    expect(previousRunOf(dir, 3)).toBeNull();
    const bad = j.startRun({ mode: "apply", options: {}, planHash: null });
    j.stepStarted(bad, { stepId: "host.swap-off", host: "n1", seq: 0 }, "h", null);
    j.finishRun(bad, "failed", 20);
    j.close();
    const prev = previousRunOf(dir, 3);
    expect(prev).toMatchObject({ runId: bad, status: "failed", stepsDone: 0, stepsTotal: 3 });
    expect(prev!.startedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    // a run that recorded its step list is measured against it, not against the caller's guess
    const j2 = Journal.open(dir);
    j2.acquireLock("test");
    const recorded = j2.startRun({ mode: "apply", options: { steps: ["host.swap-off", "k8s.init", "k8s.ready", "admin.service"] }, planHash: null });
    j2.finishRun(recorded, "interrupted", 5);
    j2.close();
    expect(previousRunOf(dir, 3)).toMatchObject({ runId: recorded, stepsTotal: 4 });
  });

  it("wizardSecrets hands over typed passwords and refuses, with a fix, what was not typed", async () => {
    const s = wizardSecrets({ sshPassword: "pw", sudoPassword: null, adminPassword: null });
    await expect(s.sshPassword("root", "10.0.0.1")).resolves.toBe("pw");
    await expect(s.sudoPassword("n1")).rejects.toMatchObject({ code: "E_SSH_AUTH", remedy: expect.stringContaining("sudo with a password") });
    await expect(s.keyPassphrase("/k")).rejects.toMatchObject({ code: "E_SSH_AUTH", remedy: expect.stringContaining("ssh-agent") });
    await expect(wizardSecrets({ sshPassword: null, sudoPassword: null, adminPassword: null }).sshPassword("root", "a")).rejects.toMatchObject({ code: "E_SSH_AUTH" });
  });

  it("bundleView: a file that is not a bundle becomes an error view, not a crash", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-wdeps-"));
    const junk = join(dir, "junk.tar");
    await writeFile(junk, "this is not a tar file at all\n".repeat(40));
    const v = await bundleView(junk);
    expect(v.status).toBe("error");
    const missing = await bundleView(join(dir, "nope.tar"));
    expect(missing).toMatchObject({ status: "error", path: join(dir, "nope.tar") });
  });

  it("wholeNumber refuses what is not a whole number in range", () => {
    expect(wholeNumber("10", "--concurrency", 100)).toBe(10);
    for (const bad of ["0", "abc", "1.5", "101"]) expect(() => wholeNumber(bad, "--concurrency", 100)).toThrow(/--concurrency must be a whole number/);
  });

  it("adminConsoleUrl: the first control-plane node's address (else its name) on port 9443; IPv6 in brackets", () => {
    expect(adminConsoleUrl(planOf([node("w1", ["worker"], "10.0.0.21"), node("cp1", ["control-plane", "worker"], "10.0.0.11"), node("cp2", ["control-plane"], "10.0.0.12")]))).toBe("https://10.0.0.11:9443");
    expect(adminConsoleUrl(planOf([node("cp1.lab", ["control-plane"], null)]))).toBe("https://cp1.lab:9443");
    expect(adminConsoleUrl(planOf([node("cp1", ["control-plane"], "fd00::11")]))).toBe("https://[fd00::11]:9443");
    expect(adminConsoleUrl(planOf([node("w1", ["worker"], "10.0.0.21")]))).toBeNull();
  });

  it("installOutcomeFor: console and user only with the admin service, the kubeconfig only with its step", () => {
    const plan = planOf([node("cp1", ["control-plane"], "10.0.0.11")]);
    const o = { kubeconfigPath: "/s/kubeconfig", logPath: "/l/install.log", runLogDir: "/s/logs/run-2", shownOnce: [] };
    expect(installOutcomeFor(plan, [{ id: "host.swap-off" }, { id: "k8s.kubeconfig" }, { id: "admin.service" }], o)).toEqual({
      consoleUrl: "https://10.0.0.11:9443",
      kubeconfigPath: "/s/kubeconfig",
      adminUser: "admin",
      logPath: "/l/install.log",
      runLogDir: "/s/logs/run-2",
      shownOnce: [],
      repeatFlags: [],
    });
    expect(installOutcomeFor(plan, [{ id: "host.swap-off" }], o)).toMatchObject({ consoleUrl: null, kubeconfigPath: null, adminUser: null, logPath: "/l/install.log" });
  });
});
