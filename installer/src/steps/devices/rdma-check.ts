// devices.rdma-check: a read-only check that the interface the plan chose for RDMA traffic sits on an ACTIVE RDMA
// port with the planned link layer (InfiniBand or Ethernet/RoCE). Reads /sys/class/infiniband; changes nothing.
import { OmstackError } from "../../errors.js";
import { LABEL_PREFIX } from "../../plan/labels.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import type { RdmaPortFacts } from "../../probe/facts.js";
import { parseIbdev2netdev, type RdmaNetdev } from "../../probe/parse/ibdev2netdev.js";
import { parseIbstat } from "../../probe/parse/ibstat.js";
import { parseIbvDevinfo } from "../../probe/parse/ibvDevinfo.js";
import { parseRdmaLink } from "../../probe/parse/rdmaLink.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { problemsError } from "./problems.js";
import { SYSFS_SCRIPT, parseSysfsPorts, portsFromTools, rdmaProblems, type RdmaPort } from "./rdma-ports.js";

export const STEP_ID = "devices.rdma-check";

/** The plan's label for the link layer of the node's ACTIVE ports (plan/labels.ts): InfiniBand, Ethernet or mixed. */
export const RDMA_LINK_LAYER_LABEL = `${LABEL_PREFIX}rdma.link-layer`;

/** What the plan says about a node's RDMA plane: the interface, and the link layer when it is a single one. */
export function plannedRdma(node: Pick<PlanNode, "host" | "rdmaInterface" | "labels">): { iface: string; linkLayer: RdmaPort["linkLayer"] } | null {
  if (node.rdmaInterface === null) return null;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,14}$/.test(node.rdmaInterface)) {
    throw new OmstackError("E_STEP_CONFIG", `${node.host}: rdmaInterface ${JSON.stringify(node.rdmaInterface)} is not a network interface name`, { host: node.host, remedy: "fix rdmaInterface in the plan (omstack plan writes the netdev the probe found)" });
  }
  const l = node.labels[RDMA_LINK_LAYER_LABEL];
  return { iface: node.rdmaInterface, linkLayer: l === "InfiniBand" || l === "Ethernet" ? l : null };
}

const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i);

/** Runs a tool the probe also reads, under a time limit; its output only when it exited 0. */
async function tool(ctx: ReadCtx, name: string, args: string): Promise<string | null> {
  if (!(await ctx.commandExists(name))) return null;
  const limit = (await ctx.commandExists("timeout")) ? "timeout -k 2 20 " : "";
  const r = await ctx.query(`LC_ALL=C ${limit}${name}${args ? ` ${args}` : ""}`, { timeoutMs: 40_000, okExitCodes: ANY_EXIT });
  if (r.exitCode !== 0) {
    ctx.note(`${name}${args ? ` ${args}` : ""} exited with status ${r.exitCode}; its output is not used`);
    return null;
  }
  return r.stdout;
}

/** The host's RDMA ports: sysfs first; the probe's tools only when sysfs has no RDMA class (e.g. a container's own sysfs). */
export async function readRdmaPorts(ctx: ReadCtx): Promise<RdmaPort[]> {
  const sysfs = parseSysfsPorts((await ctx.query(SYSFS_SCRIPT)).stdout);
  if (sysfs.length) return sysfs;
  const sources: RdmaPortFacts[][] = [];
  const devinfo = await tool(ctx, "ibv_devinfo", "-v");
  if (devinfo !== null) sources.push(parseIbvDevinfo(devinfo).value);
  const ibstat = await tool(ctx, "ibstat", "");
  if (ibstat !== null) sources.push(parseIbstat(ibstat).value);
  const link = await tool(ctx, "rdma", "link show");
  if (link !== null) sources.push(parseRdmaLink(link).value);
  const map = await tool(ctx, "ibdev2netdev", "");
  const netdevs: RdmaNetdev[] = map === null ? [] : parseIbdev2netdev(map).value;
  return portsFromTools(sources, netdevs);
}

/** Builds the step; targets are the plan's nodes with an rdmaInterface, the link layer their omstack.io/rdma.link-layer label. */
export function devicesRdmaCheck(opts: { hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const planned = new Map<string, ReturnType<typeof plannedRdma>>();
  const remember = (plan: Plan) => {
    for (const n of plan.nodes) planned.set(n.host, plannedRdma(n));
  };
  const want = (host: string) => {
    const p = planned.get(host);
    if (!p) throw new OmstackError("E_STEP_CONFIG", `${host}: ${STEP_ID} has no RDMA interface in the plan for this host`, { host, remedy: "this is a bug: the executor must ask a step for its targets before running it; please report it" });
    return p;
  };
  const problems = async (ctx: ReadCtx) => {
    const p = want(ctx.host);
    return rdmaProblems(ctx.host, p.iface, p.linkLayer, await readRdmaPorts(ctx));
  };
  return {
    id: STEP_ID,
    title: "Check the RDMA port of each node's planned RDMA interface (ACTIVE, planned link layer)",
    targets: (plan) => {
      remember(plan);
      const only = opts.hosts ? new Set(opts.hosts(plan)) : null;
      return plan.nodes.filter((n) => planned.get(n.host) && (!only || only.has(n.host))).map((n) => n.host);
    },
    inputs: (host, plan) => {
      remember(plan);
      return want(host);
    },
    // The port can go down between runs, so the check itself is the step: ACTIVE as planned = done.
    async check(ctx): Promise<CheckResult> {
      const p = await problems(ctx);
      return p.length ? { pending: p.map((x) => x.message.replace(`${ctx.host}: `, "")).join("; ") } : "done";
    },
    async apply(ctx) {
      const p = await problems(ctx);
      if (p.length) throw problemsError(ctx.host, p);
    },
    async verify(ctx) {
      const p = await problems(ctx);
      if (p.length) throw problemsError(ctx.host, p);
    },
    describe: (ctx) => {
      const p = want(ctx.host);
      return [`read-only: the RDMA port carrying ${p.iface} (/sys/class/infiniband/*/ports/*) must be ACTIVE${p.linkLayer ? ` with link layer ${p.linkLayer}` : ""}`];
    },
  };
}
