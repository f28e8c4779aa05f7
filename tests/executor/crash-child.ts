// Child process for the crash test: runs the executor with toy steps on two "hosts" that are folders of this machine
// (reached through the real shell contexts), and can hang mid-apply so the parent can kill -9 it there.
import { execute } from "../../installer/src/executor/executor.js";
import { sessionHosts } from "../../installer/src/executor/contexts.js";
import { LocalSession } from "../../installer/src/adapters/local/localSession.js";
import { shq } from "../../installer/src/steps/shell.js";
import type { Step } from "../../installer/src/steps/types.js";

const [stateDir, root, crashStep, crashHost] = process.argv.slice(2) as [string, string, string, string];
const HOSTS = ["h1", "h2"];

function step(id: string): Step<{ hosts: string[] }> {
  const marker = (host: string) => `${root}/${host}/${id}`;
  return {
    id,
    title: `crash toy ${id}`,
    targets: (plan) => plan.hosts,
    inputs: () => ({ id }),
    async check(ctx) {
      return (await ctx.readText(marker(ctx.host))) === id ? "done" : { pending: `${marker(ctx.host)} missing` };
    },
    async apply(ctx) {
      await ctx.run(`echo ${shq(`start ${id} ${ctx.host}`)} >> ${shq(`${root}/starts.log`)}`);
      if (id === crashStep && ctx.host === crashHost) {
        await ctx.writeFile(`${root}/reached`, `${id} ${ctx.host}`);
        await new Promise(() => setInterval(() => {}, 60_000)); // mid-step until the parent sends SIGKILL
      }
      await ctx.writeFile(marker(ctx.host), id);
      await ctx.run(`echo ${shq(`effect ${id} ${ctx.host}`)} >> ${shq(`${root}/effects.log`)}`);
    },
    async verify(ctx) {
      if ((await ctx.readText(marker(ctx.host))) !== id) throw new Error(`${marker(ctx.host)} missing after apply`);
    },
    describe: (ctx) => [`write ${marker(ctx.host)}`],
  };
}

const result = await execute({
  steps: ["s1", "s2", "s3", "s4"].map(step),
  plan: { hosts: HOSTS },
  hosts: sessionHosts(async () => new LocalSession()),
  stateDir,
  concurrency: 1,
  hostLockDir: (host) => `${root}/${host}/lock`,
  onEvent: (e) => process.stdout.write(JSON.stringify(e) + "\n"),
});
process.exitCode = result.status === "succeeded" ? 0 : 1;
