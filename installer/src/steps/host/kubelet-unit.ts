// host.kubelet-unit: the kubelet's systemd unit, kubeadm's drop-in and /etc/default/kubelet (node name and the labels a
// kubelet may set on itself), so kubeadm init/join find a kubelet to configure and start.
import { createHash } from "node:crypto";
import { OmstackError } from "../../errors.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { systemdRunning } from "../systemd.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** The unit kubeadm expects to find (it enables and starts `kubelet`). */
export const KUBELET_UNIT_FILE = "/etc/systemd/system/kubelet.service";

/** kubeadm's drop-in: its kubeconfig, config and flags files, plus /etc/default/kubelet. */
export const KUBEADM_DROPIN_FILE = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf";

/** KUBELET_EXTRA_ARGS for this node (the drop-in reads it as an optional EnvironmentFile). */
export const KUBELET_DEFAULTS_FILE = "/etc/default/kubelet";

/** Where the bundle's kubelet binary is installed. */
export const DEFAULT_KUBELET_PATH = "/usr/local/bin/kubelet";

/** sha256 of the unit files systemd last reloaded through this step (a crash between write and reload is finished on the next run). */
export const KUBELET_UNIT_STAMP = "/var/lib/omstack/applied/kubelet-unit.sha256";

const HEADER = "# Managed by omstack (host.kubelet-unit); edits here are overwritten on the next install.";

/** The labels a kubelet may set on itself (NodeRestriction); others in kubernetes.io/k8s.io are refused at kubelet start. */
const KUBELET_SELF_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
]);

const inNamespace = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/** True when a kubelet may put this label on its own node with --node-labels; the rest are left to the cluster's label step. */
export function kubeletMaySetLabel(key: string): boolean {
  if (KUBELET_SELF_LABELS.has(key)) return true;
  const ns = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
  if (inNamespace(ns, "node-restriction.kubernetes.io")) return false;
  if (inNamespace(ns, "kubelet.kubernetes.io") || inNamespace(ns, "node.kubernetes.io")) return true;
  return !inNamespace(ns, "kubernetes.io") && !inNamespace(ns, "k8s.io");
}

const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** Checks the node name and label syntax Kubernetes accepts, so a bad plan fails here and not at kubelet start. */
export function validateKubeletNode(node: Pick<PlanNode, "host" | "labels">): void {
  if (!DNS_SUBDOMAIN.test(node.host) || node.host.length > 253) {
    throw new OmstackError("E_STEP_CONFIG", `node name ${JSON.stringify(node.host)} is not a Kubernetes node name (lower-case letters, digits, '-' and '.', at most 253 characters)`, { host: node.host, remedy: "rename the host in the inventory (the inventory name becomes the node name)" });
  }
  for (const [key, value] of Object.entries(node.labels)) {
    const slash = key.lastIndexOf("/");
    const prefix = slash < 0 ? null : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    if ((prefix !== null && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253)) || !LABEL_NAME.test(name) || !LABEL_VALUE.test(value)) {
      throw new OmstackError("E_STEP_CONFIG", `${node.host}: node label ${JSON.stringify(`${key}=${value}`)} is not a Kubernetes label (key [prefix/]name, value at most 63 letters, digits, '-', '_' or '.')`, { host: node.host, remedy: "fix the label in the inventory" });
    }
  }
}

/** The three files for one node, path → exact text. */
export function renderKubeletFiles(node: Pick<PlanNode, "host" | "labels">, kubeletPath = DEFAULT_KUBELET_PATH): Map<string, string> {
  validateKubeletNode(node);
  const labels = Object.keys(node.labels)
    .filter(kubeletMaySetLabel)
    .sort()
    .map((k) => `${k}=${node.labels[k]}`);
  const args = [`--hostname-override=${node.host}`, ...(labels.length ? [`--node-labels=${labels.join(",")}`] : [])];
  const unit = [
    HEADER,
    "[Unit]",
    "Description=kubelet: the Kubernetes node agent",
    "Wants=network-online.target containerd.service",
    "After=network-online.target containerd.service",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    `ExecStart=${kubeletPath}`,
    "Restart=always",
    "RestartSec=2",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
  const dropin = [
    HEADER,
    "[Service]",
    `Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"`,
    `Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"`,
    "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env",
    `EnvironmentFile=-${KUBELET_DEFAULTS_FILE}`,
    "ExecStart=",
    `ExecStart=${kubeletPath} $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS`,
    "",
  ].join("\n");
  const defaults = `${HEADER}\nKUBELET_EXTRA_ARGS="${args.join(" ")}"\n`;
  return new Map([
    [KUBELET_UNIT_FILE, unit],
    [KUBEADM_DROPIN_FILE, dropin],
    [KUBELET_DEFAULTS_FILE, defaults],
  ]);
}

/** One digest over the unit and drop-in (what daemon-reload reads; /etc/default/kubelet is read at kubelet start). */
export function unitFilesSha256(files: Map<string, string>): string {
  const h = createHash("sha256");
  for (const p of [KUBELET_UNIT_FILE, KUBEADM_DROPIN_FILE]) h.update(`${p}\0${files.get(p) ?? ""}\0`);
  return h.digest("hex");
}

async function differing(ctx: ReadCtx, files: Map<string, string>): Promise<{ path: string; why: "missing" | "content" | "mode" }[]> {
  const out: { path: string; why: "missing" | "content" | "mode" }[] = [];
  for (const [path, text] of files) {
    const got = await ctx.readText(path);
    if (got === null) out.push({ path, why: "missing" });
    else if (got !== text) out.push({ path, why: "content" });
    else if ((await ctx.stat(path))?.mode !== 0o644) out.push({ path, why: "mode" });
  }
  return out;
}

async function reloaded(ctx: ReadCtx, sum: string): Promise<boolean> {
  return (await ctx.readText(KUBELET_UNIT_STAMP))?.trim() === sum;
}

/** Builds the step; each node's files come from the plan's node (name and labels), read when the executor asks for targets and inputs. */
export function hostKubeletUnit(opts: { kubeletPath?: string; hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "host.kubelet-unit";
  const kubeletPath = opts.kubeletPath ?? DEFAULT_KUBELET_PATH;
  if (!kubeletPath.startsWith("/") || kubeletPath.split("/").includes("..") || /[\s"'\\$%;\0]/.test(kubeletPath)) {
    throw new OmstackError("E_STEP_CONFIG", `kubelet path ${JSON.stringify(kubeletPath)} must be an absolute path without "..", spaces, quotes, '$', '%' or ';'`, { remedy: "fix the kubelet path setting" });
  }
  const nodes = new Map<string, PlanNode>();
  const remember = (plan: Plan) => {
    for (const n of plan.nodes) nodes.set(n.host, n);
  };
  const filesFor = (host: string): Map<string, string> => {
    const node = nodes.get(host);
    if (!node) throw new OmstackError("E_STEP_CONFIG", `${host}: host.kubelet-unit has no plan node for this host`, { host, remedy: "this is a bug: the executor must ask a step for its targets before running it; please report it" });
    return renderKubeletFiles(node, kubeletPath);
  };
  return {
    id,
    title: "Install the kubelet systemd unit and kubeadm drop-in",
    targets: (plan) => {
      remember(plan);
      return (opts.hosts ?? allNodes)(plan);
    },
    inputs: (host, plan) => {
      remember(plan);
      return Object.fromEntries(filesFor(host));
    },
    async check(ctx): Promise<CheckResult> {
      const files = filesFor(ctx.host);
      const d = await differing(ctx, files);
      if (d.length) return { pending: d.map((x) => `${x.path}: ${x.why === "mode" ? "different mode" : x.why === "content" ? "different content" : "missing"}`).join(", ") };
      if ((await systemdRunning(ctx)) && !(await reloaded(ctx, unitFilesSha256(files)))) return { pending: "systemd has not reloaded the kubelet unit since it changed" };
      return "done";
    },
    async apply(ctx) {
      const files = filesFor(ctx.host);
      for (const { path } of await differing(ctx, files)) await ctx.writeFile(path, files.get(path)!, { mode: 0o644 });
      const sum = unitFilesSha256(files);
      if (!(await systemdRunning(ctx))) {
        ctx.note(`systemd is not PID 1 on this host (no /run/systemd/system): kubelet unit written, systemctl daemon-reload not run; kubeadm needs systemd to start the kubelet`);
        return;
      }
      if (!(await reloaded(ctx, sum))) {
        // enabled, not started: kubeadm init/join starts it once its configuration exists.
        await ctx.run("systemctl daemon-reload && systemctl enable kubelet.service", { timeoutMs: 120_000 });
        await ctx.writeFile(KUBELET_UNIT_STAMP, `${sum}\n`, { mode: 0o600 });
      }
    },
    async verify(ctx) {
      const files = filesFor(ctx.host);
      const d = await differing(ctx, files);
      if (d.length) {
        throw verifyFailed(ctx.host, id, `the kubelet unit files must hold omstack's text with mode 644; ${d.map((x) => `${x.path} (${x.why})`).join(", ")} do not`, "something else manages these files (a kubelet package, configuration management?); exclude them there, then run the install again");
      }
      if ((await systemdRunning(ctx)) && !(await reloaded(ctx, unitFilesSha256(files)))) {
        throw verifyFailed(ctx.host, id, `systemd must have reloaded the kubelet unit; ${KUBELET_UNIT_STAMP} does not record it`, "run the install again; if daemon-reload fails, read `journalctl -b` on the host");
      }
    },
    describe: (ctx) => {
      const lines: string[] = [];
      for (const [path, text] of filesFor(ctx.host)) lines.push(`write ${path} (mode 644):`, ...text.trimEnd().split("\n").map((l) => `  ${l}`));
      lines.push("if systemd is PID 1: systemctl daemon-reload and enable kubelet (not started: kubeadm starts it), once per unit change");
      return lines;
    },
  };
}
