// devices.gpu-check: a read-only health check of each NVIDIA GPU node before Kubernetes is set up on it — the kernel
// driver is loaded, nvidia-smi answers in time and lists the planned GPUs, and the device nodes exist. Changes nothing.
import { CommandError, OmstackError } from "../../errors.js";
import { LABEL_PREFIX } from "../../plan/labels.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { parseNvidiaSmiText } from "../../probe/parse/nvidiaSmiText.js";
import { parseNvidiaSmiXml } from "../../probe/parse/nvidiaSmiXml.js";
import { parseNvidiaVersion } from "../../probe/parse/nvidiaVersion.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { problemsError, type DeviceProblem } from "./problems.js";

export const STEP_ID = "devices.gpu-check";

/** Present exactly while the NVIDIA kernel module is loaded. */
export const NVIDIA_VERSION_FILE = "/proc/driver/nvidia/version";

/** The plan's labels this step reads (written by plan/labels.ts from the probed facts). */
export const GPU_VENDOR_LABEL = `${LABEL_PREFIX}gpu.vendor`;
export const GPU_COUNT_LABEL = `${LABEL_PREFIX}gpu.count`;

/** nvidia-smi's answer, as the step saw it. */
export type SmiResult =
  | { kind: "missing" }
  | { kind: "timeout"; seconds: number }
  | { kind: "failed"; exitCode: number; output: string }
  | { kind: "ok"; gpus: number; driverVersion: string | null; form: "xml" | "text" };

/** Everything the health verdict depends on, read from one host. */
export interface GpuObservation {
  /** The plan's GPU count for this node, or null when the plan does not say. */
  expectedCount: number | null;
  /** Contents of /proc/driver/nvidia/version, or null when absent (module not loaded). */
  driverFile: string | null;
  smi: SmiResult;
  /** Device nodes that should exist and do not (character devices). */
  missingNodes: string[];
}

/** The device nodes a node with `count` GPUs must have. */
export function expectedNodes(count: number): string[] {
  return ["/dev/nvidiactl", ...Array.from({ length: count }, (_, i) => `/dev/nvidia${i}`)];
}

/** The verdict: every problem found, each with its code and remedy ([] = healthy). */
export function gpuProblems(host: string, o: GpuObservation): DeviceProblem[] {
  const out: DeviceProblem[] = [];
  const moduleVersion = o.driverFile === null ? null : parseNvidiaVersion(o.driverFile).value;
  if (o.driverFile === null) {
    out.push({ code: "E_GPU_DRIVER_MISSING", message: `${host}: the plan makes this an NVIDIA GPU node, but the NVIDIA kernel driver is not loaded (${NVIDIA_VERSION_FILE} is missing)`, remedy: "install the NVIDIA driver the bundle's CUDA version needs and load it (modprobe nvidia, or reboot after installing); `dmesg | grep -i nvrm` tells why it did not load" });
  }
  const smi = o.smi;
  if (smi.kind === "missing") {
    out.push({ code: "E_GPU_SMI_FAILED", message: `${host}: nvidia-smi is not installed, so the GPUs cannot be checked`, remedy: "install the NVIDIA driver's utilities (nvidia-utils / the driver's .run installer puts nvidia-smi in /usr/bin)" });
  } else if (smi.kind === "timeout") {
    out.push({ code: "E_GPU_SMI_FAILED", message: `${host}: nvidia-smi did not answer within ${smi.seconds} s (a hung GPU or driver)`, remedy: "check `dmesg` for NVRM Xid errors; reset the GPU (`nvidia-smi -r`) or reboot the node, then run the install again" });
  } else if (smi.kind === "failed") {
    const mismatch = /Driver\/library version mismatch/i.test(smi.output);
    const first = smi.output.trim().split("\n").find((l) => l.trim() !== "")?.trim() ?? "no output";
    out.push({
      code: "E_GPU_SMI_FAILED",
      message: `${host}: nvidia-smi failed with exit status ${smi.exitCode}: ${first.slice(0, 200)}`,
      remedy: mismatch ? "the loaded kernel module is not the installed driver's: reboot the node (or unload and reload the nvidia modules)" : "run nvidia-smi on the node by hand and fix what it reports (dmesg shows driver errors)",
    });
  } else if (smi.gpus === 0) {
    out.push({ code: "E_GPU_COUNT", message: `${host}: nvidia-smi answers but lists no GPU`, remedy: "check `lspci | grep -i nvidia` and dmesg (\"fallen off the bus\", Xid 79); reseat or replace the GPU, or probe again and make a new plan" });
  } else if (o.expectedCount !== null && smi.gpus < o.expectedCount) {
    out.push({ code: "E_GPU_COUNT", message: `${host}: the plan expects ${o.expectedCount} GPUs; nvidia-smi lists ${smi.gpus}`, remedy: "check dmesg for \"fallen off the bus\" / Xid 79 and reseat or replace the missing GPU, or probe again and make a new plan" });
  }
  if (o.driverFile !== null && o.missingNodes.length) {
    out.push({ code: "E_GPU_DEVICE_NODES", message: `${host}: the NVIDIA driver${moduleVersion ? ` ${moduleVersion}` : ""} is loaded but ${o.missingNodes.join(", ")} ${o.missingNodes.length === 1 ? "is" : "are"} missing`, remedy: "run `nvidia-modprobe` (or nvidia-smi once as root), or enable nvidia-persistenced; they create the device nodes" });
  }
  return out;
}

/** The GPU count the plan wrote for a node (label omstack.io/gpu.count), or null. */
export function plannedGpuCount(node: Pick<PlanNode, "labels">): number | null {
  const v = node.labels[GPU_COUNT_LABEL];
  return v !== undefined && /^[1-9]\d{0,2}$/.test(v) ? Number(v) : null;
}

/** Nodes the plan gives NVIDIA GPUs (AMD GPUs are not checked by this step). */
export function nvidiaNodes(plan: Plan): string[] {
  return plan.nodes.filter((n) => n.labels[GPU_VENDOR_LABEL] === "nvidia").map((n) => n.host);
}

const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i);

async function runSmi(ctx: ReadCtx, seconds: number): Promise<SmiResult> {
  if (!(await ctx.commandExists("nvidia-smi"))) return { kind: "missing" };
  const limit = (await ctx.commandExists("timeout")) ? `timeout -k 5 ${seconds} ` : "";
  let last: SmiResult = { kind: "missing" };
  // Same order as the probe: the XML form, then the text form some drivers and vGPU guests answer instead.
  for (const form of ["xml", "text"] as const) {
    let r;
    try {
      r = await ctx.query(`LC_ALL=C ${limit}nvidia-smi -q${form === "xml" ? " -x" : ""}`, { timeoutMs: (seconds + 15) * 1000, okExitCodes: ANY_EXIT });
    } catch (e) {
      if (e instanceof CommandError && e.code === "E_COMMAND_TIMEOUT") return { kind: "timeout", seconds };
      throw e;
    }
    if (limit && (r.exitCode === 124 || r.exitCode === 137)) return { kind: "timeout", seconds };
    if (r.exitCode === 0) {
      const parsed = form === "xml" ? parseNvidiaSmiXml(r.stdout).value : parseNvidiaSmiText(r.stdout).value;
      return { kind: "ok", gpus: parsed.gpus.length, driverVersion: parsed.driverVersion, form };
    }
    last = { kind: "failed", exitCode: r.exitCode, output: r.stdout + r.stderr };
  }
  return last;
}

async function missingNodes(ctx: ReadCtx, count: number): Promise<string[]> {
  const r = await ctx.query(`for f in ${expectedNodes(count).join(" ")}; do [ -c "$f" ] || echo "$f"; done; true`);
  return r.stdout.split("\n").filter((l) => l.startsWith("/dev/"));
}

/** Builds the step; targets are the plan's NVIDIA nodes, the expected count is their omstack.io/gpu.count label. */
export function devicesGpuCheck(opts: { smiTimeoutSec?: number; hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const seconds = opts.smiTimeoutSec ?? 60;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) {
    throw new OmstackError("E_STEP_CONFIG", `nvidia-smi time limit must be 1–600 whole seconds; got ${seconds}`, { remedy: "fix smiTimeoutSec" });
  }
  const counts = new Map<string, number | null>();
  const remember = (plan: Plan) => {
    for (const n of plan.nodes) counts.set(n.host, plannedGpuCount(n));
  };
  const observe = async (ctx: ReadCtx): Promise<GpuObservation> => {
    const expectedCount = counts.get(ctx.host) ?? null;
    const driverFile = await ctx.readText(NVIDIA_VERSION_FILE);
    const smi = await runSmi(ctx, seconds);
    const count = expectedCount ?? (smi.kind === "ok" && smi.gpus > 0 ? smi.gpus : 1);
    return { expectedCount, driverFile, smi, missingNodes: driverFile === null ? [] : await missingNodes(ctx, count) };
  };
  return {
    id: STEP_ID,
    title: "Check the NVIDIA GPUs (driver loaded, nvidia-smi answers, device nodes present)",
    targets: (plan) => {
      remember(plan);
      const only = opts.hosts ? new Set(opts.hosts(plan)) : null;
      return nvidiaNodes(plan).filter((h) => !only || only.has(h));
    },
    inputs: (host, plan) => {
      remember(plan);
      return { expectedCount: counts.get(host) ?? null, smiTimeoutSec: seconds };
    },
    // Hardware can fail between runs, so the check itself is the step: healthy = done.
    async check(ctx): Promise<CheckResult> {
      const p = gpuProblems(ctx.host, await observe(ctx));
      return p.length ? { pending: p.map((x) => x.message.replace(`${ctx.host}: `, "")).join("; ") } : "done";
    },
    async apply(ctx) {
      const o = await observe(ctx);
      const p = gpuProblems(ctx.host, o);
      if (p.length) throw problemsError(ctx.host, p);
      if (o.smi.kind === "ok") ctx.note(`${o.smi.gpus} NVIDIA GPU(s) answer; driver ${o.smi.driverVersion ?? "version unknown"}`);
    },
    async verify(ctx) {
      const p = gpuProblems(ctx.host, await observe(ctx));
      if (p.length) throw problemsError(ctx.host, p);
    },
    describe: (ctx) => [
      `read-only: ${NVIDIA_VERSION_FILE} must exist (driver loaded)`,
      `read-only: nvidia-smi -q -x (then -q) must answer within ${seconds} s and list ${counts.get(ctx.host) ?? "at least one"} GPU(s)`,
      `read-only: ${expectedNodes(counts.get(ctx.host) ?? 1).join(", ")} must exist`,
    ],
  };
}
