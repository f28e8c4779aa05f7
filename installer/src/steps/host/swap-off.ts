// host.swap-off: the kubelet refuses to run with swap on; turn it off now and keep it off after reboot.
import type { Plan } from "../../plan/types.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** Marker put before each swap line this step disables, so a human sees who did it (and can undo it). */
export const SWAP_COMMENT = "#omstack-swap-off# ";

/** fstab lines that mount swap and are not commented out. */
export function activeFstabSwapLines(fstab: string): string[] {
  return fstab.split("\n").filter((line) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return false;
    return t.split(/\s+/)[2] === "swap";
  });
}

/** fstab with every active swap line commented out; everything else byte for byte the same. */
export function commentSwapLines(fstab: string): string {
  const active = new Set(activeFstabSwapLines(fstab));
  return fstab
    .split("\n")
    .map((line) => (active.has(line) ? SWAP_COMMENT + line : line))
    .join("\n");
}

/** Devices or files in use as swap, from /proc/swaps (header line skipped). */
export function activeSwaps(procSwaps: string): string[] {
  return procSwaps
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((d) => d !== "");
}

const FSTAB = "/etc/fstab";

async function state(ctx: ReadCtx): Promise<{ fstab: string | null; fstabLines: string[]; swaps: string[] }> {
  const fstab = await ctx.readText(FSTAB);
  const swaps = activeSwaps((await ctx.readText("/proc/swaps")) ?? "");
  return { fstab, fstabLines: fstab === null ? [] : activeFstabSwapLines(fstab), swaps };
}

/** Builds the step; `hosts` chooses its targets (default: every node). */
export function hostSwapOff(opts: { hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "host.swap-off";
  return {
    id,
    title: "Turn swap off (now and in /etc/fstab)",
    targets: opts.hosts ?? allNodes,
    inputs: () => ({ fstab: FSTAB, marker: SWAP_COMMENT }),
    async check(ctx): Promise<CheckResult> {
      const s = await state(ctx);
      const pending: string[] = [];
      if (s.swaps.length) pending.push(`swap in use: ${s.swaps.join(", ")}`);
      if (s.fstabLines.length) pending.push(`${s.fstabLines.length} swap line(s) active in ${FSTAB}`);
      return pending.length ? { pending: pending.join("; ") } : "done";
    },
    async apply(ctx) {
      const fstab = await ctx.readText(FSTAB);
      if (fstab !== null && activeFstabSwapLines(fstab).length > 0) {
        const mode = (await ctx.stat(FSTAB))?.mode ?? 0o644;
        await ctx.writeFile(FSTAB, commentSwapLines(fstab), { mode });
      }
      await ctx.run("swapoff -a");
    },
    async verify(ctx) {
      const s = await state(ctx);
      if (s.swaps.length) {
        throw verifyFailed(ctx.host, id, `swap must be off; /proc/swaps still lists ${s.swaps.join(", ")}`, "run `swapoff -a` on the host and look for the reason it fails (not enough free memory to move swapped pages back?)");
      }
      if (s.fstabLines.length) {
        throw verifyFailed(ctx.host, id, `${FSTAB} must mount no swap; it has: ${s.fstabLines.join(" | ")}`, `comment out those lines (or run the install again); something re-added them after this step`);
      }
    },
    describe: () => [`comment out every swap line in ${FSTAB} (prefix "${SWAP_COMMENT.trim()}")`, "run swapoff -a"],
  };
}
