// The services.releases step on a real lab cluster, through the real executor: helm 4 (scripts/fetch-helm.mjs) and
// tests/lab/charts/omstack-echo travel in a small signed bundle built here, helm runs on this machine with the admin
// kubeconfig a real `omstack install` saved, and the step's pod checks run on lab1 over SSH. Phases, each timed:
//   dry-run → install → again (skipped) → upgrade (values changed) → service answers on a NodePort → helm killed
//   mid-install (pending-install) and the resume → chart with an image the bundle lacks (refused before helm runs)
//   → uninstall. Captures the namespace's pod list as a fixture with --fixtures DIR.
//
//   tsx tests/lab/prove-services.ts --run-dir $OMSTACK_LAB_CACHE/lab-runs/<id> [--fixtures DIR]
//
// The run dir is one `tests/lab/run-lab.sh --keep` left: state/kubeconfig (the install's) and known_hosts. Run it under
// the lab lock, with the lab up (tests/lab/charts/README.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { binaryHelm, type HelmRunner } from "../../installer/src/adapters/helm/binaryHelm.js";
import { SshConnector, type Secrets } from "../../installer/src/adapters/ssh/client.js";
import { KnownHostsFile } from "../../installer/src/adapters/ssh/knownHosts.js";
import { buildBundle } from "../../installer/src/bundle/build.js";
import { extractBundle } from "../../installer/src/bundle/extract.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { readBundleHead } from "../../installer/src/bundle/verify.js";
import { generateKeyFiles, loadPrivateKey, loadPublicKey } from "../../installer/src/bundle/sign.js";
import { sessionHosts } from "../../installer/src/executor/contexts.js";
import { execute, type ExecuteResult } from "../../installer/src/executor/executor.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import { testNode, testPlan } from "../../installer/src/plan/testing.js";
import type { Plan } from "../../installer/src/plan/types.js";
import type { BundleParts } from "../../installer/src/steps/bundleParts.js";
import type { HelmClient } from "../../installer/src/steps/services/ports.js";
import { servicesReleases } from "../../installer/src/steps/services/releases.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CACHE = process.env.OMSTACK_LAB_CACHE ?? "/var/cache/omstack-lab";
const NODES = [
  { host: "lab1", address: "198.19.0.11" },
  { host: "lab2", address: "198.19.0.12" },
  { host: "lab3", address: "198.19.0.13" },
];
const NODE_PORT = 30081;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}
/** A check the later phases depend on: stop the run when it fails. */
function must(ok: boolean, what: string): void {
  check(ok, what);
  if (!ok) throw new Error(`stopping: ${what} did not hold`);
}
const timings: Record<string, number> = {};
async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round(performance.now() - t0);
    console.log(`phase ${name}: ${(timings[name]! / 1000).toFixed(1)} s`);
  }
}

async function main(): Promise<void> {
  const runDir = arg("run-dir");
  if (!runDir) throw new Error("--run-dir DIR is required (a run dir that tests/lab/run-lab.sh --keep left)");
  const kubeconfigPath = join(runDir, "state/kubeconfig");
  if (!existsSync(kubeconfigPath)) throw new Error(`${kubeconfigPath} does not exist: the install did not save its kubeconfig`);
  const fixtures = arg("fixtures");
  const work = mkdtempSync(join(tmpdir(), "omstack-prove-services-"));

  // ---- a signed bundle carrying bin/helm and the lab chart; the image list is the lab bundle's own
  const helmPath = execFileSync(process.execPath, [join(ROOT, "scripts/fetch-helm.mjs")], { encoding: "utf8" }).trim();
  const bundle = await timed("bundle", async () => {
    await generateKeyFiles(join(work, "key"));
    const recipe = parseRecipe(
      ["name: omstack", "version: 0.0.0-services", "arch: amd64", "components: {omstack: 0.0.0}", "files:", `  - {path: bin/helm, mode: "0755", source: ${helmPath}}`, "charts:", `  - path: ${join(ROOT, "tests/lab/charts/omstack-echo")}`].join("\n"),
      join(work, "recipe.yaml"),
    );
    const built = await buildBundle({ recipe, key: await loadPrivateKey(join(work, "key")), out: join(work, "services.tar") });
    await extractBundle(built.out, join(work, "x"), { trusted: [await loadPublicKey(join(work, "key.pub"))] });
    return built.manifest;
  });
  const labBundle = execFileSync(join(ROOT, "tests/lab/bundle.sh"), ["--print"], { encoding: "utf8" }).trim().split(" ")[0]!;
  const labImages = (await readBundleHead(labBundle)).manifest.images;
  const files = new Map(bundle.files.map((f) => [f.path, f]));
  const parts: BundleParts = {
    version: bundle.version,
    part: (p) => {
      const f = files.get(p);
      return f ? { path: p, source: join(work, "x", p), sha256: f.sha256, size: f.size, mode: f.mode } : null;
    },
    images: labImages.map((i) => ({ name: i.name, digest: i.digest, blobs: i.blobs })),
    charts: bundle.charts.map((c) => ({ name: c.name, version: c.version, path: c.path })),
  };
  const helmLog: string[] = [];
  const helm = binaryHelm({ helmPath: parts.part("bin/helm")!.source, kubeconfigPath, log: (l) => helmLog.push(l) });

  // ---- lab1 over SSH, as the install reaches it
  const knownHosts = await KnownHostsFile.open(join(runDir, "known_hosts"));
  const noSecrets: Secrets = { sshPassword: async () => Promise.reject(new Error("no password")), keyPassphrase: async () => undefined, sudoPassword: async () => Promise.reject(new Error("no sudo")) };
  const connector = new SshConnector({ connectTimeoutMs: 20_000, keepaliveMs: 5_000, secrets: noSecrets, hostKeys: { knownHosts, acceptNew: false, accepted: [] } });
  const spec = (host: string): HostSpec => ({ name: host, address: NODES.find((n) => n.host === host)!.address, port: 22, user: "root", auth: { kind: "key", identityFile: join(CACHE, "ssh/id_ed25519") }, sudo: { enabled: false }, bastion: null, roles: [], labels: {}, wipe: [] });
  const hosts = sessionHosts((h) => connector.open(spec(h)), { opMs: 120_000 });

  const plan = (values: Record<string, unknown>): Plan =>
    testPlan(
      NODES.map((n, i) => testNode(n.host, { roles: i === 0 ? ["control-plane", "worker"] : ["worker"], address: n.address })),
      { cluster: { ...testPlan([]).cluster, kubernetesVersion: "1.34.4" }, services: [{ name: "echo", enabled: true, reason: "lab", values }] },
    );
  const baseValues = { service: { type: "NodePort", nodePort: NODE_PORT } };
  const run = async (name: string, p: Plan, o: { dryRun?: boolean; client?: HelmClient; stateDir?: string } = {}): Promise<{ r: ExecuteResult; events: ExecutorEvent[] }> => {
    const events: ExecutorEvent[] = [];
    const r = await timed(name, () =>
      execute<Plan>({
        steps: [servicesReleases({ helm: o.client ?? helm, parts, readyTimeoutMs: 180_000, timeoutMs: 300_000 })],
        plan: p,
        hosts,
        stateDir: join(work, o.stateDir ?? "state"),
        hostLockDir: false,
        ...(o.dryRun ? { dryRun: true } : {}),
        onEvent: (e) => {
          events.push(e);
          if (e.type === "step-planned") for (const l of [e.reason, ...e.lines]) console.log(`    | ${l}`);
          if (e.type === "step-note") console.log(`    note: ${e.message}`);
          if (e.type === "step-failed") console.log(`    failed: [${e.error.code}] ${e.error.message}`);
        },
      }),
    );
    return { r, events };
  };
  const kubectl = (args: string[]) => execFileSync(helmPath.replace(/helm$/, "kubectl"), ["--kubeconfig", kubeconfigPath, ...args], { encoding: "utf8" });
  const status = (r: ExecuteResult) => r.outcomes.map((x) => x.status).join(",");

  // ---- phases
  const dry = await run("dry-run", plan(baseValues), { dryRun: true });
  must(dry.r.status === "succeeded" && status(dry.r) === "planned-apply", `dry run plans the install (${status(dry.r)})`);
  check(!helmLog.some((l) => /^helm (upgrade|uninstall|rollback)/.test(l)), "the dry run ran no helm command that changes the cluster");

  const first = await run("install", plan(baseValues));
  must(first.r.status === "succeeded" && status(first.r) === "verified", `install: ${status(first.r)}`);
  const pods = JSON.parse(kubectl(["-n", "omstack-echo", "get", "pods", "-o", "json"])) as { items: { spec: { nodeName: string }; status: { phase: string } }[] };
  check(pods.items.length === 2 && pods.items.every((p) => p.status.phase === "Running"), `2 echo pods running (${pods.items.map((p) => `${p.spec.nodeName}:${p.status.phase}`).join(" ")})`);
  check(new Set(pods.items.map((p) => p.spec.nodeName)).size === 2, "the two pods are on different nodes (topology spread)");
  if (fixtures) {
    mkdirSync(fixtures, { recursive: true });
    writeFileSync(join(fixtures, "omstack-echo-pods.json"), kubectl(["-n", "omstack-echo", "get", "pods", "-o", "json"]));
    writeFileSync(join(fixtures, "omstack-echo-metadata.json"), execFileSync(parts.part("bin/helm")!.source, ["get", "metadata", "echo", "-n", "omstack-echo", "-o", "json", "--kubeconfig", kubeconfigPath], { encoding: "utf8", env: { PATH: process.env.PATH!, HELM_CACHE_HOME: join(work, "h/c"), HELM_CONFIG_HOME: join(work, "h/cf"), HELM_DATA_HOME: join(work, "h/d") } }));
  }

  const again = await run("again", plan(baseValues));
  check(status(again.r) === "skipped", `a second run skips (${status(again.r)})`);

  const up = await run("upgrade", plan({ ...baseValues, replicas: 3, greeting: "upgraded" }));
  check(status(up.r) === "verified", `changed values upgrade the release (${status(up.r)})`);
  const meta = JSON.parse(execFileSync(parts.part("bin/helm")!.source, ["get", "metadata", "echo", "-n", "omstack-echo", "-o", "json", "--kubeconfig", kubeconfigPath], { encoding: "utf8", env: { PATH: process.env.PATH!, HELM_CACHE_HOME: join(work, "h/c"), HELM_CONFIG_HOME: join(work, "h/cf"), HELM_DATA_HOME: join(work, "h/d") } })) as { revision: number; status: string };
  check(meta.revision === 2 && meta.status === "deployed", `release echo is revision 2, deployed (${meta.revision}, ${meta.status})`);
  const ready = kubectl(["-n", "omstack-echo", "get", "deploy", "echo", "-o", "jsonpath={.status.readyReplicas}"]);
  check(ready === "3", `3 replicas ready after the upgrade (${ready})`);

  // The Service answers from outside the cluster (this machine → a node's NodePort), from several pods.
  const seen = await timed("nodeport", async () => {
    const names = new Set<string>();
    const deadline = Date.now() + 20_000;
    while (names.size < 2 && Date.now() < deadline) {
      for (const n of NODES) {
        const r = await fetch(`http://${n.address}:${NODE_PORT}/`, { signal: AbortSignal.timeout(2000) }).then((x) => x.text(), () => "");
        if (r.trim()) names.add(r.trim());
      }
    }
    return names;
  });
  check(seen.size >= 2, `the NodePort answers from ${seen.size} different pods (${[...seen].join(" ")})`);

  // helm SIGKILLed 2 s into an install (the installer killed mid-step): the release stays pending-install and the
  // next run removes it and installs again.
  const killer: HelmRunner = async (file, args, opts) => {
    const r = await execa(file, [...args], { env: opts.env, extendEnv: false, timeout: args[0] === "upgrade" ? 2000 : opts.timeoutMs, killSignal: "SIGKILL", reject: false, stdin: "ignore" });
    return { exitCode: r.exitCode ?? null, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), timedOut: r.timedOut, spawnError: null };
  };
  const victim = plan({ ...baseValues, replicas: 3 });
  await helm.uninstall("echo", "omstack-echo", 120_000);
  const killed = await run("killed", victim, { client: binaryHelm({ helmPath: parts.part("bin/helm")!.source, kubeconfigPath, run: killer }), stateDir: "state-kill" });
  must(killed.r.status === "failed", `helm killed mid-install fails the step (${killed.r.status})`);
  const stuck = await helm.release("echo", "omstack-echo");
  check(stuck?.status === "pending-install", `the release is left pending-install (${stuck?.status})`);
  const resumed = await run("resume", victim, { stateDir: "state-kill" });
  check(status(resumed.r) === "verified", `the resumed run completes (${status(resumed.r)})`);
  check(resumed.events.some((e) => e.type === "step-note" && /stuck in pending-install/.test(e.message)), "the resume said it removes the stuck release first");

  // An image the bundle does not carry: refused before helm installs anything.
  const before = (await helm.release("echo", "omstack-echo"))?.revision;
  const bad = await run("missing-image", plan({ ...baseValues, image: "omstack.lab/echo:v9" }), { stateDir: "state-bad" });
  check(bad.events.some((e) => e.type === "step-failed" && e.error.code === "E_SERVICE_IMAGE_MISSING" && e.error.message.includes("omstack.lab/echo:v9")), "a chart running an image the bundle lacks is refused (E_SERVICE_IMAGE_MISSING)");
  check((await helm.release("echo", "omstack-echo"))?.revision === before, "…and the release was not touched");

  await timed("uninstall", () => helm.uninstall("echo", "omstack-echo", 120_000));
  check((await helm.release("echo", "omstack-echo")) === null, "uninstalled");
  kubectl(["delete", "namespace", "omstack-echo", "--wait=false"]);

  const logFile = join(runDir, "prove-services-helm.log");
  writeFileSync(logFile, helmLog.join("\n") + "\n", { mode: 0o600 });
  rmSync(work, { recursive: true, force: true });
  console.log(`timings (ms): ${JSON.stringify(timings)}`);
  console.log(`helm calls: ${helmLog.filter((l) => l.startsWith("helm ")).length} (log: ${logFile})`);
  console.log(failures ? `prove-services: ${failures} check(s) FAILED` : "prove-services: all checks passed");
  process.exit(failures ? 1 : 0);
}

main().catch((e: unknown) => {
  console.error(`prove-services: ${(e as { format?: () => string }).format?.() ?? (e as Error).stack ?? String(e)}`);
  process.exit(1);
});
