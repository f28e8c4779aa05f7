// The helm client's exact argv, its isolated environment and private values file, and how it turns helm's answers
// (captured from helm 4.1.4 against a real API server, fixtures/) into results or errors — with a runner that
// records instead of starting a process.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommandError, OmstackError } from "../../errors.js";
import { binaryHelm, type HelmRunResult, type HelmRunner } from "./binaryHelm.js";
import { parseReleaseList, parseReleaseMetadata } from "./parse.js";

const fx = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");

interface Seen {
  file: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
  /** The values file as it was while helm ran (it is removed afterwards). */
  valuesText: string | null;
  valuesMode: number | null;
  home: string;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(answer: (args: readonly string[]) => Partial<HelmRunResult> = () => ({})) {
  const dir = mkdtempSync(join(tmpdir(), "omstack-helm-test-"));
  dirs.push(dir);
  const helmPath = join(dir, "helm");
  writeFileSync(helmPath, "#!/bin/sh\nexit 99\n");
  chmodSync(helmPath, 0o755);
  const kubeconfigPath = join(dir, "kubeconfig");
  writeFileSync(kubeconfigPath, "apiVersion: v1\nkind: Config\n", { mode: 0o600 });
  const seen: Seen[] = [];
  const run: HelmRunner = async (file, args, opts) => {
    const vi = args.indexOf("--values");
    const vf = vi >= 0 ? args[vi + 1]! : null;
    seen.push({ file, args: [...args], env: opts.env, timeoutMs: opts.timeoutMs, valuesText: vf ? readFileSync(vf, "utf8") : null, valuesMode: vf ? statSync(vf).mode & 0o777 : null, home: opts.env.HOME! });
    return { exitCode: 0, stdout: "", stderr: "", timedOut: false, spawnError: null, ...answer(args) };
  };
  const lines: string[] = [];
  const helm = binaryHelm({ helmPath, kubeconfigPath, tmpRoot: dir, run, log: (l) => lines.push(l), graceMs: 5000 });
  return { dir, helmPath, kubeconfigPath, seen, helm, lines };
}

describe("binaryHelm: argv and environment", () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.KUBECONFIG = "/root/.kube/someone-elses";
    process.env.HELM_REPOSITORY_CONFIG = "/root/.config/helm/repositories.yaml";
    process.env.HELM_NAMESPACE = "default";
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it("installs or upgrades with the exact flags, a 0600 values file, explicit kubeconfig and private HELM_* homes", async () => {
    const t = setup();
    await t.helm.upgradeInstall({
      release: "echo",
      namespace: "omstack-echo",
      chartPath: "/state/bundles/b/charts/omstack-echo-0.1.0.tgz",
      values: { replicas: 2, service: { type: "NodePort", nodePort: 30081 }, greeting: "it's \"quoted\"" },
      labels: { "omstack.io/inputs": "ab".repeat(24), "omstack.io/managed-by": "omstack" },
      timeoutMs: 600_000,
    });
    expect(t.seen).toHaveLength(1);
    const s = t.seen[0]!;
    expect(s.file).toBe(t.helmPath);
    const values = s.args[s.args.indexOf("--values") + 1]!;
    expect(s.args).toEqual([
      "upgrade", "echo", "/state/bundles/b/charts/omstack-echo-0.1.0.tgz", "--install",
      "--namespace", "omstack-echo", "--create-namespace",
      "--rollback-on-failure", "--wait=watcher", "--timeout", "600s",
      "--reset-values",
      "--labels", `omstack.io/inputs=${"ab".repeat(24)},omstack.io/managed-by=omstack`,
      "--values", values,
      "--kubeconfig", t.kubeconfigPath,
    ]);
    expect(parseYaml(s.valuesText!)).toEqual({ replicas: 2, service: { type: "NodePort", nodePort: 30081 }, greeting: "it's \"quoted\"" });
    expect(s.valuesMode).toBe(0o600);
    expect(values.startsWith(s.home)).toBe(true);
    // Nothing of the operator's environment: no KUBECONFIG, no HELM_NAMESPACE, no repositories file.
    expect(Object.keys(s.env).sort()).toEqual(["HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME", "HOME", "PATH"]);
    expect(s.env.HELM_CACHE_HOME).toBe(join(s.home, "cache"));
    expect(s.env.HELM_CONFIG_HOME).toBe(join(s.home, "config"));
    expect(s.env.HELM_DATA_HOME).toBe(join(s.home, "data"));
    expect(s.home.startsWith(join(t.dir, "omstack-helm-"))).toBe(true);
    // helm's own --timeout plus the grace before the process is killed
    expect(s.timeoutMs).toBe(605_000);
    // The private home (and the values in it) is gone once the call returns.
    expect(existsSync(s.home)).toBe(false);
    expect(t.lines[0]).toMatch(/^helm upgrade echo .* --kubeconfig \S+ → exit 0 in \d+ ms$/);
  });

  it("gives every call a fresh home", async () => {
    const t = setup(() => ({ stdout: "[]" }));
    await t.helm.list();
    await t.helm.list();
    expect(t.seen[0]!.home).not.toBe(t.seen[1]!.home);
  });

  it("reads a release with get metadata, and a missing release as null", async () => {
    const t = setup((args) => (args.includes("nope") ? { exitCode: 1, stderr: fx("metadata-not-found.stderr") } : { stdout: fx("metadata-deployed.json") }));
    const r = await t.helm.release("echo", "omstack-echo");
    expect(t.seen[0]!.args).toEqual(["get", "metadata", "echo", "--namespace", "omstack-echo", "--output", "json", "--kubeconfig", t.kubeconfigPath]);
    expect(r).toEqual({ name: "echo", namespace: "omstack-echo", chart: "omstack-echo", version: "0.1.0", revision: 1, status: "deployed", labels: expect.objectContaining({ "omstack.io/inputs": "abc123", owner: "helm" }) });
    expect(await t.helm.release("nope", "omstack-echo")).toBeNull();
  });

  it("lists across namespaces, filtered by a label selector", async () => {
    const t = setup(() => ({ stdout: fx("list.json") }));
    const l = await t.helm.list("omstack.io/managed-by=omstack");
    expect(t.seen[0]!.args).toEqual(["list", "--all-namespaces", "--output", "json", "--max", "0", "--selector", "omstack.io/managed-by=omstack", "--kubeconfig", t.kubeconfigPath]);
    expect(l).toEqual([
      { name: "echo", namespace: "omstack-echo", revision: 1, status: "deployed", chart: "omstack-echo-0.1.0" },
      { name: "w1", namespace: "omstack-w", revision: 4, status: "failed", chart: "omstack-echo-0.1.0" },
    ]);
  });

  it("uninstalls (a missing release is fine) and rolls back with bounded waits", async () => {
    const t = setup();
    await t.helm.uninstall("echo", "omstack-echo", 120_000);
    await t.helm.rollback("echo", "omstack-echo", 90_000);
    expect(t.seen.map((s) => s.args)).toEqual([
      ["uninstall", "echo", "--namespace", "omstack-echo", "--ignore-not-found", "--wait=watcher", "--timeout", "120s", "--kubeconfig", t.kubeconfigPath],
      ["rollback", "echo", "--namespace", "omstack-echo", "--timeout", "90s", "--kubeconfig", t.kubeconfigPath],
    ]);
  });

  it("renders and shows a chart without any cluster: no kubeconfig needed or passed", async () => {
    const t = setup((args) => ({ stdout: args[0] === "show" ? "name: omstack-echo\n" : "kind: Service\n" }));
    const { rmSync } = await import("node:fs");
    rmSync(t.kubeconfigPath);
    expect(await t.helm.template({ release: "echo", namespace: "omstack-echo", chartPath: "/c.tgz", values: { replicas: 1 }, kubeVersion: "1.34.4" })).toBe("kind: Service\n");
    expect(await t.helm.showChart("/c.tgz")).toBe("name: omstack-echo\n");
    const [tpl, show] = t.seen;
    expect(tpl!.args).toEqual(["template", "echo", "/c.tgz", "--namespace", "omstack-echo", "--kube-version", "1.34.4", "--values", tpl!.args[8]]);
    expect(parseYaml(tpl!.valuesText!)).toEqual({ replicas: 1 });
    expect(show!.args).toEqual(["show", "chart", "/c.tgz"]);
  });
});

describe("binaryHelm: failures", () => {
  it("keeps argv, exit status and helm's output tail when helm fails", async () => {
    const t = setup(() => ({ exitCode: 1, stdout: fx("upgrade-rollback.stdout"), stderr: fx("upgrade-rollback.stderr") }));
    const e = await t.helm.upgradeInstall({ release: "w2", namespace: "omstack-w", chartPath: "/c.tgz", values: {}, labels: {}, timeoutMs: 5000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommandError);
    const c = e as CommandError;
    expect(c.code).toBe("E_HELM_FAILED");
    expect(c.exitStatus).toBe(1);
    expect(c.message).toContain("release w2 failed, and has been uninstalled due to rollback-on-failure being set: resource Deployment/omstack-w/w2 not ready");
    expect(c.command).toMatch(/^helm upgrade w2 \/c\.tgz --install .* --kubeconfig /);
    expect(c.outputTail).toContain("context deadline exceeded");
    expect(c.format()).toContain("exit status: 1");
  });

  it("keeps a schema error's findings in the message", async () => {
    const stderr = "Error: UPGRADE FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\nomstack-echo:\n- at '/replicas': got string, want integer\n";
    const t = setup(() => ({ exitCode: 1, stderr }));
    await expect(t.helm.upgradeInstall({ release: "e", namespace: "n", chartPath: "/c.tgz", values: { replicas: "two" }, labels: {}, timeoutMs: 5000 })).rejects.toThrow(/following chart\(s\): omstack-echo: - at '\/replicas': got string, want integer/);
  });

  it("says another operation is in progress as helm does (a release left pending)", async () => {
    const t = setup(() => ({ exitCode: 1, stderr: fx("upgrade-pending.stderr") }));
    await expect(t.helm.upgradeInstall({ release: "w3", namespace: "n", chartPath: "/c.tgz", values: {}, labels: {}, timeoutMs: 5000 })).rejects.toThrow(/another operation \(install\/upgrade\/rollback\) is in progress/);
  });

  it("reports a killed (timed out) helm and one that could not start", async () => {
    const t1 = setup(() => ({ exitCode: null, timedOut: true, stderr: "half a line" }));
    await expect(t1.helm.list()).rejects.toMatchObject({ code: "E_COMMAND_TIMEOUT", outputTail: "half a line" });
    const t2 = setup(() => ({ exitCode: null, spawnError: "EACCES" }));
    await expect(t2.helm.list()).rejects.toMatchObject({ code: "E_HELM_UNAVAILABLE", message: expect.stringContaining("EACCES") });
  });

  it("refuses to run without helm or before the kubeconfig exists, saying which", async () => {
    const none = binaryHelm({ helmPath: null, kubeconfigPath: "/nonexistent", run: async () => { throw new Error("must not run"); } });
    expect(await none.unavailable()).toBe("the bundle carries no bin/helm");
    await expect(none.release("a", "b")).rejects.toMatchObject({ code: "E_HELM_UNAVAILABLE", remedy: expect.stringContaining("bundle that carries bin/helm") });
    const t = setup();
    const gone = binaryHelm({ helmPath: join(t.dir, "no-helm"), kubeconfigPath: t.kubeconfigPath, run: async () => { throw new Error("must not run"); } });
    expect(await gone.unavailable()).toMatch(/no-helm \(the bundle's helm\) is missing or not executable/);
    const noKube = binaryHelm({ helmPath: t.helmPath, kubeconfigPath: join(t.dir, "kc-missing"), run: async () => { throw new Error("must not run"); } });
    expect(await noKube.unavailable()).toMatch(/kc-missing does not exist yet \(k8s\.kubeconfig saves it\)/);
    await expect(noKube.list()).rejects.toBeInstanceOf(OmstackError);
  });
});

describe("helm JSON readers on helm 4.1.4 captures", () => {
  it("reads every release state helm showed", () => {
    for (const [f, status, revision] of [["metadata-deployed.json", "deployed", 1], ["metadata-failed.json", "failed", 1], ["metadata-pending-install.json", "pending-install", 1], ["metadata-pending-upgrade.json", "pending-upgrade", 3]] as const) {
      expect(parseReleaseMetadata(fx(f), "helm get metadata")).toMatchObject({ status, revision, chart: "omstack-echo", version: "0.1.0" });
    }
  });
  it("reads the release the step made in the lab, with omstack's labels", () => {
    const r = parseReleaseMetadata(fx("lab-metadata-echo.json"), "helm get metadata echo");
    expect(r).toMatchObject({ name: "echo", namespace: "omstack-echo", chart: "omstack-echo", version: "0.1.0", revision: 1, status: "deployed" });
    expect(r.labels).toMatchObject({ "omstack.io/inputs": expect.stringMatching(/^[0-9a-f]{48}$/), "omstack.io/managed-by": "omstack", "omstack.io/service": "echo" });
  });
  it.each([
    ["not json", /not JSON/],
    ["[]", /expected a JSON object/],
    ['{"name":"a","namespace":"b","chart":"c","version":"1","status":"deployed"}', /"revision" must be an integer/],
    ['{"name":"a","namespace":"b","chart":"c","version":"1","status":"deployed","revision":1,"labels":[]}', /"labels" must be an object/],
    ['{"name":"","namespace":"b","chart":"c","version":"1","status":"deployed","revision":1}', /"name" must be a non-empty string/],
  ])("refuses metadata %s", (text, re) => {
    expect(() => parseReleaseMetadata(text, "helm get metadata x")).toThrow(re);
    expect(() => parseReleaseMetadata(text, "helm get metadata x")).toThrow(expect.objectContaining({ code: "E_HELM_OUTPUT" }));
  });
  it.each([
    ["{}", /expected a JSON array/],
    ['[{"name":"a","namespace":"b","revision":"x","status":"deployed","chart":"c-1"}]', /entry 0: "revision" must be an integer/],
    ["[1]", /entry 0 is not an object/],
  ])("refuses list %s", (text, re) => {
    expect(() => parseReleaseList(text, "helm list")).toThrow(re);
  });
});
