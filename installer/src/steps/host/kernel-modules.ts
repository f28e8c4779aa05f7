// host.kernel-modules: modules containerd and pod networking need, loaded now and listed for systemd-modules-load at boot.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** Read by systemd-modules-load.service at every boot. */
export const MODULES_FILE = "/etc/modules-load.d/omstack.conf";

/** overlay for containerd's snapshotter, br_netfilter so bridged pod traffic passes iptables. */
export const DEFAULT_MODULES: readonly string[] = ["overlay", "br_netfilter"];

/** Rejects names modprobe would not take (and anything that could break the file or a command). */
export function validateModules(modules: readonly string[]): string[] {
  for (const m of modules) {
    if (!/^[A-Za-z0-9_-]+$/.test(m)) {
      throw new OmstackError("E_STEP_CONFIG", `kernel module name ${JSON.stringify(m)} is not a module name (letters, digits, _ and -)`, { remedy: "fix the module list" });
    }
  }
  return [...new Set(modules)];
}

/** The file's exact text: a header and one module per line, in the given order (load order matters). */
export function renderModulesFile(modules: readonly string[]): string {
  return `# Managed by omstack (host.kernel-modules); edits here are overwritten on the next install.\n${modules.join("\n")}\n`;
}

/** Names listed in /proc/modules (first column). */
export function loadedModules(procModules: string): Set<string> {
  return new Set(procModules.split("\n").map((l) => l.split(" ")[0] ?? "").filter(Boolean));
}

interface ModState {
  name: string;
  loaded: boolean;
}

async function modState(ctx: ReadCtx, modules: readonly string[]): Promise<{ loadable: boolean; mods: ModState[] }> {
  const proc = await ctx.readText("/proc/modules");
  const listed = proc === null ? new Set<string>() : loadedModules(proc);
  const mods: ModState[] = [];
  for (const m of modules) {
    const sysName = m.replace(/-/g, "_");
    mods.push({ name: m, loaded: listed.has(sysName) || (await ctx.exists(`/sys/module/${sysName}`)) });
  }
  return { loadable: proc !== null, mods };
}

/** Builds the step with `modules` (default DEFAULT_MODULES). */
export function hostKernelModules(opts: { modules?: readonly string[]; hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "host.kernel-modules";
  const modules = validateModules(opts.modules ?? DEFAULT_MODULES);
  const text = renderModulesFile(modules);
  return {
    id,
    title: "Load kernel modules (now and at boot)",
    targets: opts.hosts ?? allNodes,
    inputs: () => ({ file: MODULES_FILE, text }),
    async check(ctx): Promise<CheckResult> {
      if ((await ctx.readText(MODULES_FILE)) !== text) return { pending: `${MODULES_FILE} is missing or differs` };
      const s = await modState(ctx, modules);
      const missing = s.mods.filter((m) => !m.loaded).map((m) => m.name);
      return s.loadable && missing.length ? { pending: `not loaded: ${missing.join(", ")}` } : "done";
    },
    async apply(ctx) {
      await ctx.writeFile(MODULES_FILE, text, { mode: 0o644 });
      const s = await modState(ctx, modules);
      for (const m of s.mods.filter((x) => !x.loaded)) {
        if (s.loadable) await ctx.run(`modprobe ${shq(m.name)}`);
        else ctx.note(`${m.name} cannot be loaded: this kernel has no loadable-module support (/proc/modules is missing) and /sys/module/${m.name.replace(/-/g, "_")} does not exist; if it is built in, nothing is needed; ${MODULES_FILE} lists it for boot`);
      }
    },
    async verify(ctx) {
      const got = await ctx.readText(MODULES_FILE);
      if (got !== text) {
        throw verifyFailed(ctx.host, id, `${MODULES_FILE} must list ${modules.join(", ")}; it is ${got === null ? "missing" : "different"}`, "something else manages this file; exclude it there, then run the install again");
      }
      const s = await modState(ctx, modules);
      const missing = s.mods.filter((m) => !m.loaded).map((m) => m.name);
      if (s.loadable && missing.length) {
        throw verifyFailed(ctx.host, id, `modules ${missing.join(", ")} must be loaded; /proc/modules does not list them`, `run \`modprobe ${missing[0]}\` on the host and read dmesg; the module package for the running kernel (uname -r) may be missing`);
      }
    },
    describe: () => [`write ${MODULES_FILE}: ${modules.join(", ")}`, `modprobe each module not yet loaded (${modules.join(", ")})`],
  };
}
