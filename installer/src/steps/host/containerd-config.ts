// host.containerd-config: containerd's CRI settings for the kubelet (systemd cgroups, the bundle's pause image, local
// CNI and registry directories only), restarted only when the file changed since omstack last restarted it.
import { createHash } from "node:crypto";
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { systemdRunning, unitInstalled } from "../systemd.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** containerd 1.6/1.7 read this at start (config format version 2). */
export const CONTAINERD_CONFIG_FILE = "/etc/containerd/config.toml";

/** The pause image the bundle ships (kubeadm v1.34's default sandbox image); the plan may name another. */
export const DEFAULT_PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1";

/** Debian's containernetworking-plugins install here, not in upstream's /opt/cni/bin (found in the lab). */
export const DEFAULT_CNI_BIN_DIR = "/usr/lib/cni";

/** Where CNI network configurations are read from (the CNI step writes there). */
export const DEFAULT_CNI_CONF_DIR = "/etc/cni/net.d";

/** hosts.toml directory for registry hosts: local only, and omstack writes no mirror into it. */
export const DEFAULT_REGISTRY_CONFIG_PATH = "/etc/containerd/certs.d";

/** sha256 of the config containerd was last restarted with by this step; lets a re-run finish a restart a crash cut off. */
export const CONTAINERD_APPLIED_STAMP = "/var/lib/omstack/applied/containerd-config.sha256";

/** containerd's CRI socket: present once the restarted daemon serves. */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

/** What the plan decides for this file. */
export interface ContainerdConfigOptions {
  /** Sandbox (pause) image reference, with a tag or digest; default DEFAULT_PAUSE_IMAGE. */
  sandboxImage?: string;
  /** true where containerd lacks CAP_SYS_RESOURCE (a container, the lab's nspawn nodes); default: the plan node's decision. */
  restrictOomScoreAdj?: boolean;
  cniBinDir?: string;
  cniConfDir?: string;
  registryConfigPath?: string;
}

const IMAGE_REF = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$/;

function tomlPath(what: string, path: string): string {
  if (!path.startsWith("/") || path.split("/").includes("..") || /["\\\0-\x1f\x7f]/.test(path)) {
    throw new OmstackError("E_STEP_CONFIG", `containerd ${what} must be an absolute local directory without "..", quotes, backslashes or control characters; got ${JSON.stringify(path)}`, { remedy: `fix the ${what} setting` });
  }
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** Checks every setting and fills in the defaults. */
export function validateContainerdOptions(o: ContainerdConfigOptions): Required<ContainerdConfigOptions> {
  if (o.restrictOomScoreAdj !== undefined && typeof o.restrictOomScoreAdj !== "boolean") throw new OmstackError("E_STEP_CONFIG", "containerd restrict_oom_score_adj must be true or false", { remedy: "fix the setting" });
  const sandboxImage = o.sandboxImage ?? DEFAULT_PAUSE_IMAGE;
  if (!IMAGE_REF.test(sandboxImage) || sandboxImage.length > 255) {
    throw new OmstackError("E_STEP_CONFIG", `containerd sandbox image ${JSON.stringify(sandboxImage)} is not an image reference with a tag or digest (like ${DEFAULT_PAUSE_IMAGE})`, { remedy: "name the pause image exactly as the bundle's image list does, tag included" });
  }
  return {
    sandboxImage,
    restrictOomScoreAdj: o.restrictOomScoreAdj ?? false,
    cniBinDir: tomlPath("CNI bin_dir", o.cniBinDir ?? DEFAULT_CNI_BIN_DIR),
    cniConfDir: tomlPath("CNI conf_dir", o.cniConfDir ?? DEFAULT_CNI_CONF_DIR),
    registryConfigPath: tomlPath("registry config_path", o.registryConfigPath ?? DEFAULT_REGISTRY_CONFIG_PATH),
  };
}

/** The file's exact text: only what differs from containerd's defaults, plus the CRI settings we rely on. */
export function renderContainerdConfig(o: Required<ContainerdConfigOptions>): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  return [
    "# Managed by omstack (host.containerd-config); edits here are overwritten on the next install.",
    "# No registry mirror is configured: images come from the bundle, imported before they are needed.",
    "version = 2",
    "",
    `[${cri}]`,
    `  sandbox_image = "${o.sandboxImage}"`,
    `  restrict_oom_score_adj = ${o.restrictOomScoreAdj}`,
    "",
    `[${cri}.containerd]`,
    `  default_runtime_name = "runc"`,
    "",
    `[${cri}.containerd.runtimes.runc]`,
    `  runtime_type = "io.containerd.runc.v2"`,
    "",
    `[${cri}.containerd.runtimes.runc.options]`,
    "  SystemdCgroup = true",
    "",
    `[${cri}.cni]`,
    `  bin_dir = "${o.cniBinDir}"`,
    `  conf_dir = "${o.cniConfDir}"`,
    "",
    `[${cri}.registry]`,
    `  config_path = "${o.registryConfigPath}"`,
    "",
  ].join("\n");
}

/** Lower-case hex sha256 of a text, as the stamp stores it. */
export function textSha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

interface State {
  fileOk: boolean;
  mode: number | null;
  /** containerd runs under systemd here, so this step restarts it. */
  managed: boolean;
  installed: boolean;
  systemd: boolean;
  restarted: boolean;
}

async function state(ctx: ReadCtx, text: string, sum: string): Promise<State> {
  const systemd = await systemdRunning(ctx);
  const unit = await unitInstalled(ctx, "containerd.service");
  const installed = unit || (await ctx.commandExists("containerd"));
  const stamp = (await ctx.readText(CONTAINERD_APPLIED_STAMP))?.trim() ?? null;
  return {
    fileOk: (await ctx.readText(CONTAINERD_CONFIG_FILE)) === text,
    mode: (await ctx.stat(CONTAINERD_CONFIG_FILE))?.mode ?? null,
    managed: systemd && unit,
    installed,
    systemd,
    restarted: stamp === sum,
  };
}

/** Builds the step from the bundle's settings; restrict_oom_score_adj comes from each plan node unless given. */
export function hostContainerdConfig(opts: ContainerdConfigOptions & { hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "host.containerd-config";
  const base = validateContainerdOptions(opts);
  const restrict = new Map<string, boolean>();
  const settingsFor = (host: string): Required<ContainerdConfigOptions> => ({ ...base, restrictOomScoreAdj: opts.restrictOomScoreAdj ?? restrict.get(host) ?? false });
  const textFor = (host: string) => renderContainerdConfig(settingsFor(host));
  return {
    id,
    title: "Configure containerd (systemd cgroups, bundle pause image, no registry mirrors)",
    targets: (plan) => {
      for (const n of plan.nodes) restrict.set(n.host, n.restrictOomScoreAdj);
      return (opts.hosts ?? allNodes)(plan);
    },
    inputs: (host, plan) => {
      const n = plan.nodes.find((x) => x.host === host);
      if (n) restrict.set(host, n.restrictOomScoreAdj);
      return { file: CONTAINERD_CONFIG_FILE, text: textFor(host) };
    },
    async check(ctx): Promise<CheckResult> {
      const text = textFor(ctx.host);
      const sum = textSha256(text);
      const s = await state(ctx, text, sum);
      if (!s.fileOk) return { pending: `${CONTAINERD_CONFIG_FILE} is missing or differs` };
      if (s.mode !== 0o644) return { pending: `${CONTAINERD_CONFIG_FILE} has mode ${s.mode?.toString(8)} (want 644)` };
      if (s.managed && !s.restarted) return { pending: "containerd has not been restarted since its configuration changed" };
      return "done";
    },
    async apply(ctx) {
      const text = textFor(ctx.host);
      const sum = textSha256(text);
      let s = await state(ctx, text, sum);
      if (!s.fileOk || s.mode !== 0o644) await ctx.writeFile(CONTAINERD_CONFIG_FILE, text, { mode: 0o644 });
      if (s.managed) {
        if (!s.restarted) {
          // enable too: Debian installs containerd enabled, the lab's nodes (and some images) ship it disabled.
          await ctx.run("systemctl enable containerd.service && systemctl restart containerd.service", { timeoutMs: 120_000 });
          await ctx.writeFile(CONTAINERD_APPLIED_STAMP, `${sum}\n`, { mode: 0o600 });
        }
        return;
      }
      s = await state(ctx, text, sum);
      if (!s.installed) ctx.note(`containerd not installed: config written, service not restarted (${CONTAINERD_CONFIG_FILE} takes effect when containerd starts)`);
      else if (!s.systemd) ctx.note(`systemd is not PID 1 on this host (no /run/systemd/system): config written, containerd not restarted; restart containerd by hand so it reads ${CONTAINERD_CONFIG_FILE}`);
      else ctx.note(`containerd is installed but has no containerd.service unit: config written, service not restarted; restart containerd by hand so it reads ${CONTAINERD_CONFIG_FILE}`);
    },
    async verify(ctx) {
      const text = textFor(ctx.host);
      const sum = textSha256(text);
      const settings = settingsFor(ctx.host);
      const got = await ctx.readText(CONTAINERD_CONFIG_FILE);
      if (got !== text) {
        throw verifyFailed(ctx.host, id, `${CONTAINERD_CONFIG_FILE} must hold omstack's containerd configuration (systemd cgroups, sandbox image ${settings.sandboxImage}); it is ${got === null ? "missing" : "different"}`, "something else manages this file (a package post-install script, configuration management?); exclude it there, then run the install again");
      }
      const mode = (await ctx.stat(CONTAINERD_CONFIG_FILE))?.mode;
      if (mode !== 0o644) throw verifyFailed(ctx.host, id, `${CONTAINERD_CONFIG_FILE} must have mode 644; it has ${mode?.toString(8)}`, `run \`chmod 644 ${CONTAINERD_CONFIG_FILE}\` or the install again`);
      const s = await state(ctx, text, sum);
      if (s.managed && !s.restarted) {
        throw verifyFailed(ctx.host, id, `containerd must have been restarted with this configuration; ${CONTAINERD_APPLIED_STAMP} does not record it`, "run the install again; if the restart fails, read `journalctl -u containerd` on the host");
      }
      if (s.managed && !(await ctx.exists(CONTAINERD_SOCKET))) {
        throw verifyFailed(ctx.host, id, `containerd must serve ${CONTAINERD_SOCKET} after its restart; the socket is missing`, "read `systemctl status containerd` and `journalctl -u containerd` on the host: a setting in the configuration may be refused");
      }
    },
    describe: (ctx) => [
      `write ${CONTAINERD_CONFIG_FILE} (mode 644):`,
      ...textFor(ctx.host).trimEnd().split("\n").map((l) => `  ${l}`),
      "if containerd.service exists and systemd is PID 1: systemctl enable + restart containerd, once per configuration change",
    ],
  };
}
