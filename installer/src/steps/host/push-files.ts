// host.push-files: copy files (bundle parts, binaries, configs) to hosts, checked by sha256 on arrival; skipped when already there.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** One file to push: where it is here, where it goes there, its expected sha256 (from the bundle manifest), its mode. */
export interface PushFile {
  source: string;
  dest: string;
  sha256: string;
  mode?: number;
  /** Only these hosts (default: every target). */
  hosts?: string[];
}

/** Rejects entries that could not be pushed safely. */
export function validatePushFiles(files: readonly PushFile[]): PushFile[] {
  const dests = new Set<string>();
  for (const f of files) {
    const where = `push file ${JSON.stringify(f.dest)}`;
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw new OmstackError("E_STEP_CONFIG", `${where}: sha256 must be 64 lower-case hex digits; got ${JSON.stringify(f.sha256)}`, { remedy: "take the sha256 from the bundle manifest" });
    if (!f.dest.startsWith("/") || f.dest.endsWith("/") || f.dest.split("/").includes("..") || /[\0\n\r]/.test(f.dest)) {
      throw new OmstackError("E_STEP_CONFIG", `${where}: the destination must be an absolute file path without ".."`, { remedy: "fix the destination" });
    }
    if (f.mode !== undefined && !(Number.isInteger(f.mode) && f.mode >= 0 && f.mode <= 0o7777)) throw new OmstackError("E_STEP_CONFIG", `${where}: mode ${f.mode} is not a permission mode`, { remedy: "use e.g. 0o644 or 0o755" });
    if (dests.has(f.dest)) throw new OmstackError("E_STEP_CONFIG", `${where}: listed twice`, { remedy: "list each destination once" });
    dests.add(f.dest);
  }
  return [...files];
}

const modeOf = (f: PushFile) => f.mode ?? 0o644;

async function differing(ctx: ReadCtx, files: PushFile[]): Promise<{ file: PushFile; why: "missing" | "content" | "mode" }[]> {
  const out: { file: PushFile; why: "missing" | "content" | "mode" }[] = [];
  for (const f of files) {
    const sum = await ctx.sha256(f.dest);
    if (sum === null) out.push({ file: f, why: "missing" });
    else if (sum !== f.sha256) out.push({ file: f, why: "content" });
    else if (((await ctx.stat(f.dest))?.mode ?? -1) !== modeOf(f)) out.push({ file: f, why: "mode" });
  }
  return out;
}

/** Builds the step for `files`. */
export function hostPushFiles(opts: { files: readonly PushFile[]; hosts?: (plan: Plan) => string[]; id?: string; title?: string }): Step<Plan> {
  const id = opts.id ?? "host.push-files";
  const files = validatePushFiles(opts.files);
  const forHost = (host: string) => files.filter((f) => !f.hosts || f.hosts.includes(host));
  return {
    id,
    title: opts.title ?? "Push files to the hosts (sha256-checked)",
    targets: (plan) => (opts.hosts ?? allNodes)(plan).filter((h) => forHost(h).length > 0),
    inputs: (host) => forHost(host).map((f) => ({ dest: f.dest, sha256: f.sha256, mode: modeOf(f) })),
    async check(ctx): Promise<CheckResult> {
      const d = await differing(ctx, forHost(ctx.host));
      return d.length ? { pending: d.map((x) => `${x.file.dest}: ${x.why === "missing" ? "missing" : x.why === "content" ? "different content" : "different mode"}`).join(", ") } : "done";
    },
    async apply(ctx) {
      for (const { file, why } of await differing(ctx, forHost(ctx.host))) {
        if (why === "mode") await ctx.run(`chmod ${modeOf(file).toString(8)} ${shq(file.dest)}`);
        else await ctx.pushFile(file.source, file.dest, { sha256: file.sha256, mode: modeOf(file) });
      }
    },
    async verify(ctx) {
      const d = await differing(ctx, forHost(ctx.host));
      if (d.length) {
        throw verifyFailed(ctx.host, id, `pushed files must match their sha256 and mode; ${d.map((x) => `${x.file.dest} (${x.why})`).join(", ")} do not`, "something on the host changed them after the push; run the install again to push them anew");
      }
    },
    describe: (ctx) => forHost(ctx.host).map((f) => `push ${f.source} -> ${f.dest} (mode ${modeOf(f).toString(8)}, sha256 ${f.sha256.slice(0, 12)}…), unless already there with that sha256`),
  };
}
