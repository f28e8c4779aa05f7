// HelmClient over the bundled helm binary, run on this machine through execa. Every call gets its own private
// HELM_CACHE_HOME/HELM_CONFIG_HOME/HELM_DATA_HOME under a fresh 0700 temp directory (removed afterwards) and an
// environment of PATH alone, so the operator's helm repositories, plugins, KUBECONFIG or HELM_* settings never leak
// in; `--kubeconfig` is always explicit; charts are local .tgz files and no repository is ever added.
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";
import { CommandError, OmstackError } from "../../errors.js";
import type { HelmClient, HelmListEntry, HelmReleaseInfo, HelmTemplateRequest, HelmUpgradeRequest } from "../../steps/services/ports.js";
import { isReleaseNotFound, parseReleaseList, parseReleaseMetadata } from "./parse.js";

/** What one helm process did. */
export interface HelmRunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the process could not be started (ENOENT, EACCES). */
  spawnError: string | null;
}

/** Runs helm; replaced in tests to see the exact argv, environment and values file. */
export type HelmRunner = (file: string, args: readonly string[], opts: { env: Record<string, string>; timeoutMs: number }) => Promise<HelmRunResult>;

/** execa 9: no shell, no inherited environment, output captured, never rejects (the caller reads the result). */
export const execaRunner: HelmRunner = async (file, args, opts) => {
  const r = await execa(file, [...args], { env: opts.env, extendEnv: false, timeout: opts.timeoutMs, reject: false, stdin: "ignore", stripFinalNewline: false, maxBuffer: 64 * 1024 * 1024 });
  const spawnError = r.exitCode === undefined && !r.timedOut && !r.isTerminated ? (r.code ?? r.originalMessage ?? "could not start") : null;
  return { exitCode: r.exitCode ?? null, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), timedOut: r.timedOut, spawnError };
};

export interface BinaryHelmOptions {
  /** The bundle's bin/helm on this machine; null when the bundle carries none. */
  helmPath: string | null;
  /** The admin kubeconfig k8s.kubeconfig saves (STATE_DIR/kubeconfig). */
  kubeconfigPath: string;
  /** Parent of the per-call temp homes (default: the OS temp directory). */
  tmpRoot?: string;
  /** Each call's argv, exit status and duration, and helm's stderr lines (the install log). */
  log?: (line: string) => void;
  /** Extra time the process gets beyond helm's own --timeout before it is killed (default 60 s). */
  graceMs?: number;
  run?: HelmRunner;
}

/** Quotes an argument for the log and error messages only (helm itself gets argv, never a shell line). */
function q(a: string): string {
  return /^[A-Za-z0-9._/=:,@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** helm wants durations like 600s. */
const secs = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

/** The real client: one helm process per operation. */
export function binaryHelm(o: BinaryHelmOptions): HelmClient {
  const run = o.run ?? execaRunner;
  const log = o.log ?? (() => {});
  const grace = o.graceMs ?? 60_000;

  async function unavailable(cluster = true): Promise<string | null> {
    if (o.helmPath === null) return "the bundle carries no bin/helm";
    if (!(await access(o.helmPath, constants.X_OK).then(() => true, () => false))) return `${o.helmPath} (the bundle's helm) is missing or not executable`;
    if (cluster && !(await access(o.kubeconfigPath, constants.R_OK).then(() => true, () => false))) return `the admin kubeconfig ${o.kubeconfigPath} does not exist yet (k8s.kubeconfig saves it)`;
    return null;
  }

  /** One helm call in private homes; `values` (if any) is written to a 0600 file and passed with --values. A call
   *  with `offline` (template) needs no cluster and gets no kubeconfig. */
  async function helm(args: string[], opts: { timeoutMs: number; values?: Record<string, unknown>; okNotFound?: boolean; offline?: boolean }): Promise<HelmRunResult & { argv: string[] }> {
    const why = await unavailable(!opts.offline);
    if (why) {
      throw new OmstackError("E_HELM_UNAVAILABLE", `helm cannot run on this machine: ${why}`, {
        remedy: o.helmPath === null ? "install from a bundle that carries bin/helm (omstack bundle inspect lists its files)" : "run the install again from k8s.kubeconfig (omstack install --from-step k8s.kubeconfig), or check the state directory",
      });
    }
    const home = await mkdtemp(join(o.tmpRoot ?? tmpdir(), "omstack-helm-"));
    try {
      const argv = [...args];
      if (opts.values) {
        const file = join(home, "values.yaml");
        await writeFile(file, stringify(opts.values, { lineWidth: 0 }), { mode: 0o600 });
        argv.push("--values", file);
      }
      if (!opts.offline) argv.push("--kubeconfig", o.kubeconfigPath);
      const env = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        HELM_CACHE_HOME: join(home, "cache"),
        HELM_CONFIG_HOME: join(home, "config"),
        HELM_DATA_HOME: join(home, "data"),
      };
      const shown = `helm ${argv.map(q).join(" ")}`;
      const t0 = performance.now();
      const r = await run(o.helmPath!, argv, { env, timeoutMs: opts.timeoutMs + grace });
      log(`${shown} → ${r.spawnError ? `not started (${r.spawnError})` : r.timedOut ? "killed (timeout)" : `exit ${r.exitCode}`} in ${Math.round(performance.now() - t0)} ms`);
      for (const line of r.stderr.split("\n")) if (line.trim()) log(`  helm: ${line}`);
      if (r.spawnError) {
        throw new CommandError("E_HELM_UNAVAILABLE", `helm could not be started: ${r.spawnError}`, shown, null, "", { remedy: `check ${o.helmPath}: it must be the bundle's linux binary for this machine's architecture` });
      }
      if (r.timedOut) {
        throw new CommandError("E_COMMAND_TIMEOUT", `\`${shown}\` did not finish within ${Math.round((opts.timeoutMs + grace) / 1000)} s`, shown, null, [r.stdout, r.stderr].filter((t) => t.trim()).join("\n"), {
          remedy: "the API server may be unreachable from this machine or overloaded; check `kubectl --kubeconfig … get nodes`, then run the install again",
        });
      }
      if (r.exitCode !== 0 && !(opts.okNotFound && isReleaseNotFound(r.stderr))) {
        throw new CommandError("E_HELM_FAILED", `\`helm ${args.slice(0, 2).join(" ")}\` exited with status ${r.exitCode}: ${lastError(r.stderr)}`, shown, r.exitCode, [r.stdout, r.stderr].filter((t) => t.trim()).join("\n"), {
          remedy: "read helm's output below (a values schema error, a resource that did not become ready, an unreachable API server); fix it, then run the install again",
        });
      }
      return { ...r, argv };
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }

  return {
    unavailable: () => unavailable(true),
    async upgradeInstall(req: HelmUpgradeRequest) {
      const labels = Object.entries(req.labels).map(([k, v]) => `${k}=${v}`).join(",");
      await helm(
        [
          "upgrade", req.release, req.chartPath, "--install",
          "--namespace", req.namespace, "--create-namespace",
          "--rollback-on-failure", "--wait=watcher", "--timeout", secs(req.timeoutMs),
          "--reset-values",
          ...(labels ? ["--labels", labels] : []),
        ],
        { timeoutMs: req.timeoutMs, values: req.values },
      );
    },
    async release(name, namespace): Promise<HelmReleaseInfo | null> {
      const args = ["get", "metadata", name, "--namespace", namespace, "--output", "json"];
      const r = await helm(args, { timeoutMs: 60_000, okNotFound: true });
      if (r.exitCode !== 0) return null;
      return parseReleaseMetadata(r.stdout, `helm ${args.join(" ")}`);
    },
    async list(selector): Promise<HelmListEntry[]> {
      const args = ["list", "--all-namespaces", "--output", "json", "--max", "0", ...(selector ? ["--selector", selector] : [])];
      const r = await helm(args, { timeoutMs: 60_000 });
      return parseReleaseList(r.stdout, `helm ${args.join(" ")}`);
    },
    async uninstall(name, namespace, timeoutMs) {
      await helm(["uninstall", name, "--namespace", namespace, "--ignore-not-found", "--wait=watcher", "--timeout", secs(timeoutMs)], { timeoutMs });
    },
    async rollback(name, namespace, timeoutMs) {
      await helm(["rollback", name, "--namespace", namespace, "--timeout", secs(timeoutMs)], { timeoutMs });
    },
    async template(req: HelmTemplateRequest): Promise<string> {
      const r = await helm(
        ["template", req.release, req.chartPath, "--namespace", req.namespace, ...(req.kubeVersion ? ["--kube-version", req.kubeVersion] : [])],
        { timeoutMs: 120_000, values: req.values, offline: true },
      );
      return r.stdout;
    },
    async showChart(chartPath) {
      return (await helm(["show", "chart", chartPath], { timeoutMs: 60_000, offline: true })).stdout;
    },
  };
}

/** helm's last "Error: …" line and what follows it (a schema error lists its findings below), else its last line. */
function lastError(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const at = lines.findLastIndex((l) => l.startsWith("Error:"));
  const text = at >= 0 ? lines.slice(at).join(" ") : (lines.at(-1) ?? "no output");
  return text.replace(/^Error:\s*/, "").slice(0, 400);
}
