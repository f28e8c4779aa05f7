// host.sysctls: kernel settings Kubernetes and the data services need, in one file that survives reboots, applied live where allowed.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** Our drop-in (90- sorts after distribution defaults, so ours win). */
export const SYSCTL_FILE = "/etc/sysctl.d/90-omstack.conf";

/** Defaults: pod networking needs forwarding and bridged traffic through iptables; search and big-data services need many mmaps. */
export const DEFAULT_SYSCTLS: Readonly<Record<string, string>> = {
  "net.ipv4.ip_forward": "1",
  "net.bridge.bridge-nf-call-iptables": "1",
  "net.bridge.bridge-nf-call-ip6tables": "1",
  "vm.max_map_count": "262144",
};

const KEY = /^[a-z0-9_]+([./][A-Za-z0-9_-]+)+$/;

/** Rejects keys and values that could not be a sysctl (or would break the file). */
export function validateSysctls(values: Record<string, string | number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const value = String(v).trim();
    if (!KEY.test(k) || k.includes("..")) {
      throw new OmstackError("E_STEP_CONFIG", `sysctl key ${JSON.stringify(k)} is not a kernel parameter name (like net.ipv4.ip_forward)`, { remedy: "fix the key in the sysctl settings" });
    }
    if (value === "" || /[\n\r\0#]/.test(value)) {
      throw new OmstackError("E_STEP_CONFIG", `sysctl ${k}: value ${JSON.stringify(String(v))} must be non-empty, on one line, without '#'`, { remedy: "fix the value in the sysctl settings" });
    }
    out[k] = value;
  }
  return out;
}

/** The file's exact text: a header, then `key = value` sorted by key. */
export function renderSysctlFile(values: Record<string, string>): string {
  const lines = Object.keys(values)
    .sort()
    .map((k) => `${k} = ${values[k]}`);
  return `# Managed by omstack (host.sysctls); edits here are overwritten on the next install.\n${lines.join("\n")}\n`;
}

/** /proc/sys path of a key (dots or slashes as separators, as sysctl(8) accepts). */
export function procPath(key: string): string {
  return "/proc/sys/" + key.replace(/\./g, "/");
}

/** Kernel values print multi-part settings with tabs; compare them word by word. */
export function sameValue(live: string, wanted: string): boolean {
  return live.trim().split(/\s+/).join(" ") === wanted.trim().split(/\s+/).join(" ");
}

interface Live {
  key: string;
  wanted: string;
  value: string | null;
  writable: boolean;
}

async function live(ctx: ReadCtx, values: Record<string, string>): Promise<Live[]> {
  const out: Live[] = [];
  for (const key of Object.keys(values).sort()) {
    const value = await ctx.readText(procPath(key));
    out.push({ key, wanted: values[key]!, value, writable: value !== null && (await ctx.isWritable(procPath(key))) });
  }
  return out;
}

/** Builds the step with `values` (default DEFAULT_SYSCTLS). */
export function hostSysctls(opts: { values?: Record<string, string | number>; hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "host.sysctls";
  const values = validateSysctls(opts.values ?? DEFAULT_SYSCTLS);
  const text = renderSysctlFile(values);
  return {
    id,
    title: "Set kernel parameters (sysctl)",
    targets: opts.hosts ?? allNodes,
    inputs: () => ({ file: SYSCTL_FILE, text }),
    async check(ctx): Promise<CheckResult> {
      if ((await ctx.readText(SYSCTL_FILE)) !== text) return { pending: `${SYSCTL_FILE} is missing or differs` };
      const differ = (await live(ctx, values)).filter((l) => l.writable && !sameValue(l.value!, l.wanted));
      return differ.length ? { pending: `live values differ: ${differ.map((l) => `${l.key}=${l.value!.trim()} (want ${l.wanted})`).join(", ")}` } : "done";
    },
    async apply(ctx) {
      await ctx.writeFile(SYSCTL_FILE, text, { mode: 0o644 });
      const state = await live(ctx, values);
      if (state.every((l) => l.writable)) {
        // Only our file: --system would also re-apply every other drop-in, which is not this step's business.
        await ctx.run(`sysctl -p ${shq(SYSCTL_FILE)}`);
        return;
      }
      for (const l of state) {
        if (l.value === null) {
          ctx.note(`${l.key} does not exist on this kernel (${procPath(l.key)} is missing; a module such as br_netfilter may not be loaded yet); it is in ${SYSCTL_FILE} and applies once it exists`);
        } else if (!l.writable) {
          ctx.note(`${l.key} cannot be set live: ${procPath(l.key)} is read-only here (a container or read-only /proc/sys); ${SYSCTL_FILE} sets it to ${l.wanted} at boot`);
        } else if (!sameValue(l.value, l.wanted)) {
          await ctx.run(`sysctl -w ${shq(`${l.key}=${l.wanted}`)}`);
        }
      }
    },
    async verify(ctx) {
      const got = await ctx.readText(SYSCTL_FILE);
      if (got !== text) {
        throw verifyFailed(ctx.host, id, `${SYSCTL_FILE} must hold omstack's settings; it is ${got === null ? "missing" : "different"}`, "something else manages this file (configuration management?); exclude it there, then run the install again");
      }
      const wrong = (await live(ctx, values)).filter((l) => l.writable && !sameValue(l.value!, l.wanted));
      if (wrong.length) {
        throw verifyFailed(ctx.host, id, `live kernel values must match ${SYSCTL_FILE}; found ${wrong.map((l) => `${l.key}=${l.value!.trim()} (want ${l.wanted})`).join(", ")}`, `run \`sysctl -p ${SYSCTL_FILE}\` on the host and read its errors`);
      }
    },
    describe: () => [`write ${SYSCTL_FILE}:`, ...text.trimEnd().split("\n").map((l) => `  ${l}`), `apply live: sysctl -p ${SYSCTL_FILE} (or sysctl -w per key where /proc/sys is partly read-only)`],
  };
}
