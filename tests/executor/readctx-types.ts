// Compile-time proof (checked by `tsc --noEmit`): check, verify and describe cannot call a write operation.
// If ReadCtx ever gained a write method, the @ts-expect-error lines below would become unused and tsc would fail.
import type { Step } from "../../installer/src/steps/types.js";

export const cannotWriteFromReadOnlyPhases: Step<{ hosts: string[] }> = {
  id: "types.read-only",
  title: "type test",
  targets: (p) => p.hosts,
  async check(ctx) {
    // @ts-expect-error ReadCtx has no writeFile
    await ctx.writeFile("/etc/x", "y");
    // @ts-expect-error ReadCtx has no run
    await ctx.run("rm -rf /");
    return "done";
  },
  async apply(ctx) {
    await ctx.writeFile("/etc/x", "y"); // WriteCtx may write
  },
  async verify(ctx) {
    // @ts-expect-error ReadCtx has no remove
    await ctx.remove("/etc/x");
  },
  describe(ctx) {
    // @ts-expect-error ReadCtx has no pushFile
    void ctx.pushFile("/a", "/b", { sha256: "" });
    return [];
  },
};
