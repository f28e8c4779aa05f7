// Toy steps for executor tests: each writes a marker file on its host; failures, rollback and hangs are switchable per host.
import { CommandError } from "../../installer/src/errors.js";
import type { Step } from "../../installer/src/steps/types.js";
import { verifyFailed } from "../../installer/src/steps/verifyError.js";

/** The toy plan: just the host names. */
export interface ToyPlan {
  hosts: string[];
}

/** Switches for one toy step. */
export interface ToyOptions {
  /** Where markers go: (host) => folder on the host (default "/toy"). */
  dir?: (host: string) => string;
  /** Every apply/rollback appends "apply <id> <host>" here (shared by all steps of a test). */
  calls: string[];
  failApplyOn?: Set<string>;
  failCheckOn?: Set<string>;
  failVerifyOn?: Set<string>;
  withRollback?: boolean;
  cluster?: boolean;
  /** Runs inside apply before the marker is written (hang here to simulate a crash mid-step). */
  beforeWrite?: (host: string) => Promise<void>;
  track?: { now: number; max: number };
  /** Goes into the marker and the inputs hash (a new version = changed inputs). */
  version?: string;
}

/** A step that puts "<id>@<version>" into <dir>/<id> on each host. */
export function toyStep(id: string, o: ToyOptions): Step<ToyPlan> {
  const dir = o.dir ?? (() => "/toy");
  const path = (host: string) => `${dir(host)}/${id}`;
  const version = o.version ?? "v1";
  return {
    id,
    title: `toy ${id}`,
    targets: (plan) => (o.cluster ? "cluster" : plan.hosts),
    inputs: () => ({ version }),
    async check(ctx) {
      if (o.failCheckOn?.has(ctx.host)) throw new Error(`check of ${id} exploded on ${ctx.host}`);
      return (await ctx.readText(path(ctx.host))) === `${id}@${version}` ? "done" : { pending: `${path(ctx.host)} is not ${id}@${version}` };
    },
    async apply(ctx) {
      o.calls.push(`apply ${id} ${ctx.host}`);
      if (o.track) {
        o.track.now++;
        o.track.max = Math.max(o.track.max, o.track.now);
      }
      try {
        await new Promise((r) => setImmediate(r));
        if (o.failApplyOn?.has(ctx.host)) {
          await ctx.writeFile(`${path(ctx.host)}.partial`, "half");
          throw new CommandError("E_COMMAND_FAILED", `${ctx.host}: \`toy-tool --${id}\` exited with status 3`, `toy-tool --${id}`, 3, "line 1\nline 2\ntoy-tool: disk on fire\n", { host: ctx.host, remedy: "put the fire out" });
        }
        await o.beforeWrite?.(ctx.host);
        await ctx.writeFile(path(ctx.host), `${id}@${version}`);
      } finally {
        if (o.track) o.track.now--;
      }
    },
    async verify(ctx) {
      if (o.failVerifyOn?.has(ctx.host) || (await ctx.readText(path(ctx.host))) !== `${id}@${version}`) {
        throw verifyFailed(ctx.host, id, `${path(ctx.host)} must hold ${id}@${version}`, "run again");
      }
    },
    ...(o.withRollback
      ? {
          async rollback(ctx) {
            o.calls.push(`rollback ${id} ${ctx.host}`);
            await ctx.remove(`${path(ctx.host)}.partial`);
          },
        }
      : {}),
    describe: (ctx) => [`write ${path(ctx.host)} = ${id}@${version}`],
  };
}
