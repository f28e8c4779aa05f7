// Step contexts for tests that call a step's phases directly, outside the executor: one host, no peers.
import { OmstackError } from "../../errors.js";
import type { ReadCtx, StepReadCtx, StepWriteCtx, WriteCtx } from "../../steps/types.js";

const noPeer = (host: string) => async (): Promise<never> => {
  throw new OmstackError("E_STEP_CONFIG", `this test gave the step on ${host} no other hosts`, { remedy: "run the step through execute() or pass peers" });
};

/** A ReadCtx as a step's read context; `peers` answers ctx.peer(host) when the step needs another host. */
export function soloReader(ctx: ReadCtx, peers?: (host: string) => Promise<ReadCtx>): StepReadCtx {
  return Object.freeze({ ...ctx, peer: peers ?? noPeer(ctx.host) });
}

/** A WriteCtx as a step's write context; `peers` answers ctx.peer(host). */
export function soloWriter(ctx: WriteCtx, peers?: (host: string) => Promise<WriteCtx>): StepWriteCtx {
  return Object.freeze({ ...ctx, peer: peers ?? noPeer(ctx.host) });
}
