// host.firewall-ports: where a host firewall is active (firewalld or ufw), opens the ports Kubernetes and OMStack
// need on this node's roles and lets the pod network through; with no active firewall it changes nothing and says so.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** An inclusive TCP port range (a single port has from === to). */
export interface PortRange {
  from: number;
  to: number;
  why: string;
}

/** API server, etcd client+peer, kubelet, controller-manager, scheduler (kubernetes.io "Ports and Protocols"). */
export const CONTROL_PLANE_PORTS: readonly PortRange[] = [
  { from: 6443, to: 6443, why: "Kubernetes API server" },
  { from: 2379, to: 2380, why: "etcd client and peer" },
  { from: 10250, to: 10250, why: "kubelet API" },
  { from: 10257, to: 10257, why: "kube-controller-manager" },
  { from: 10259, to: 10259, why: "kube-scheduler" },
];

/** kubelet, kube-proxy health, NodePort services: on every node. */
export const NODE_PORTS: readonly PortRange[] = [
  { from: 10250, to: 10250, why: "kubelet API" },
  { from: 10256, to: 10256, why: "kube-proxy health" },
  { from: 30000, to: 32767, why: "NodePort services" },
];

/** The admin service, on the first control plane only. */
export const ADMIN_PORTS: readonly PortRange[] = [{ from: 9443, to: 9443, why: "omstack admin service" }];

/** The ports one plan node needs, sorted and without duplicates. */
export function portsFor(plan: Plan, host: string): PortRange[] {
  const node = plan.nodes.find((n) => n.host === host);
  if (!node) return [];
  const cps = plan.nodes.filter((n) => n.roles.includes("control-plane"));
  const list = [...NODE_PORTS];
  if (node.roles.includes("control-plane")) list.push(...CONTROL_PLANE_PORTS);
  if (cps[0]?.host === host) list.push(...ADMIN_PORTS);
  const seen = new Map<string, PortRange>();
  for (const p of list) if (!seen.has(`${p.from}-${p.to}`)) seen.set(`${p.from}-${p.to}`, p);
  return [...seen.values()].sort((a, b) => a.from - b.from || a.to - b.to);
}

/** "6443/tcp" or "2379-2380/tcp" (firewalld's spelling). */
export const firewalldPort = (p: PortRange) => (p.from === p.to ? `${p.from}/tcp` : `${p.from}-${p.to}/tcp`);
/** "6443/tcp" or "2379:2380/tcp" (ufw's spelling). */
export const ufwPort = (p: PortRange) => (p.from === p.to ? `${p.from}/tcp` : `${p.from}:${p.to}/tcp`);

/** TCP ranges open in `firewall-cmd --list-ports` output ("8000/tcp 2379-2380/tcp 53/udp"); other protocols ignored. */
export function parseFirewalldPorts(stdout: string): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const word of stdout.trim().split(/\s+/)) {
    const m = /^(\d+)(?:-(\d+))?\/tcp$/.exec(word);
    if (m) out.push({ from: Number(m[1]), to: Number(m[2] ?? m[1]) });
  }
  return out;
}

/** Whether `ufw status` says the firewall is active (first line "Status: active"). */
export function ufwActive(stdout: string): boolean {
  return /^Status: active\s*$/m.test(stdout);
}

/**
 * TCP ranges ufw allows in from anywhere over IPv4, from `ufw status` (plain or verbose): "To" column values like
 * "10250/tcp", "30000:32767/tcp", "22" (both protocols) or "80,443/tcp", with action ALLOW / ALLOW IN and from "Anywhere".
 */
export function parseUfwAllowed(stdout: string): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(\S+)\s+ALLOW(?: IN)?\s+Anywhere\s*(#.*)?$/.exec(line.trimEnd());
    if (!m) continue;
    const [ports, proto] = m[1]!.split("/");
    if (proto !== undefined && proto !== "tcp") continue;
    for (const part of ports!.split(",")) {
      const r = /^(\d+)(?::(\d+))?$/.exec(part);
      if (r) out.push({ from: Number(r[1]), to: Number(r[2] ?? r[1]) });
    }
  }
  return out;
}

/** The pod-subnet sources ufw routes from anywhere ("Anywhere  ALLOW FWD  10.244.0.0/16") and allows in ("Anywhere  ALLOW  10.244.0.0/16"). */
export function parseUfwSources(stdout: string): { allowIn: Set<string>; routeFrom: Set<string> } {
  const allowIn = new Set<string>();
  const routeFrom = new Set<string>();
  for (const line of stdout.split("\n")) {
    const m = /^Anywhere\s+ALLOW( IN| FWD)?\s+(\S+)\s*(#.*)?$/.exec(line.trimEnd());
    if (!m) continue;
    (m[1] === " FWD" ? routeFrom : allowIn).add(m[2]!);
  }
  return { allowIn, routeFrom };
}

/** The required ranges that no open range covers (an operator's 2379/tcp + 2380/tcp also cover 2379-2380). */
export function missingPorts(required: readonly PortRange[], open: readonly { from: number; to: number }[]): PortRange[] {
  return required.filter((r) => {
    for (let port = r.from; port <= r.to; ) {
      const cover = open.filter((o) => o.from <= port && o.to >= port).reduce((m, o) => Math.max(m, o.to), -1);
      if (cover < 0) return true;
      port = cover + 1;
    }
    return false;
  });
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;

/** Which firewall is active on a host. */
export type ActiveFirewall = "firewalld" | "ufw" | null;

/** firewalld first (`firewall-cmd --state` → running, exit 0), then ufw (`ufw status` → Status: active). */
export async function detectFirewall(ctx: ReadCtx): Promise<ActiveFirewall> {
  if (await ctx.commandExists("firewall-cmd")) {
    // exit 252 = NOT_RUNNING; any other non-zero (RUNNING_BUT_FAILED 251, no D-Bus) is not a running firewall either.
    const r = await ctx.query("firewall-cmd --state", { okExitCodes: [0, 251, 252, 253, 254, 255, 1, 2], timeoutMs: 30_000 });
    if (r.exitCode === 0 && r.stdout.trim() === "running") return "firewalld";
  }
  if (await ctx.commandExists("ufw")) {
    const r = await ctx.query("ufw status", { okExitCodes: [0, 1], timeoutMs: 30_000 });
    if (r.exitCode === 0 && ufwActive(r.stdout)) return "ufw";
  }
  return null;
}

interface FirewallState {
  kind: ActiveFirewall;
  missing: PortRange[];
  /** The pod subnet is not yet a trusted source (firewalld) / allowed and routed (ufw). */
  podNetworkMissing: boolean;
}

/** Builds the step; the pod subnet comes from plan.cluster.podSubnet. */
export function hostFirewallPorts(opts: { hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "host.firewall-ports";
  const ports = new Map<string, PortRange[]>();
  let podSubnet = "";
  const states = new Map<string, FirewallState>();
  const remember = (plan: Plan) => {
    podSubnet = plan.cluster.podSubnet;
    if (!CIDR.test(podSubnet)) throw new OmstackError("E_STEP_CONFIG", `the plan's pod subnet ${JSON.stringify(podSubnet)} is not a CIDR (like 10.244.0.0/16)`, { remedy: "fix cluster.podSubnet in the install config and make a new plan" });
    for (const n of plan.nodes) ports.set(n.host, portsFor(plan, n.host));
  };
  const wanted = (host: string) => ports.get(host) ?? [];

  async function state(ctx: ReadCtx): Promise<FirewallState> {
    const kind = await detectFirewall(ctx);
    let s: FirewallState = { kind, missing: [], podNetworkMissing: false };
    if (kind === "firewalld") {
      const listed = await ctx.query("firewall-cmd --list-ports", { timeoutMs: 30_000 });
      const sources = await ctx.query("firewall-cmd --zone=trusted --list-sources", { timeoutMs: 30_000 });
      s = { kind, missing: missingPorts(wanted(ctx.host), parseFirewalldPorts(listed.stdout)), podNetworkMissing: !sources.stdout.trim().split(/\s+/).includes(podSubnet) };
    } else if (kind === "ufw") {
      const status = (await ctx.query("ufw status", { timeoutMs: 30_000 })).stdout;
      const src = parseUfwSources(status);
      s = { kind, missing: missingPorts(wanted(ctx.host), parseUfwAllowed(status)), podNetworkMissing: !src.allowIn.has(podSubnet) || !src.routeFrom.has(podSubnet) };
    }
    states.set(ctx.host, s);
    return s;
  }
  const summary = (s: FirewallState) => [...(s.missing.length ? [`ports ${s.missing.map(firewalldPort).join(" ")} closed`] : []), ...(s.podNetworkMissing ? [`pod network ${podSubnet} not let through`] : [])].join("; ");

  return {
    id,
    title: "Open the Kubernetes and OMStack ports in an active host firewall (firewalld or ufw)",
    targets: (plan) => {
      remember(plan);
      return (opts.hosts ?? allNodes)(plan);
    },
    inputs: (host, plan) => {
      remember(plan);
      return { ports: wanted(host).map(firewalldPort), podSubnet };
    },
    async check(ctx): Promise<CheckResult> {
      const s = await state(ctx);
      if (!s.kind) return "done";
      const what = summary(s);
      return what ? { pending: `${s.kind} is active: ${what}` } : "done";
    },
    async apply(ctx) {
      const s = await state(ctx);
      if (!s.kind) {
        ctx.note("no host firewall active (neither firewalld running nor ufw active): no ports to open");
        return;
      }
      if (s.kind === "firewalld") {
        // --permanent only, then --reload makes the permanent configuration the running one (an already-added port is fine).
        if (s.missing.length) await ctx.run(`firewall-cmd --permanent ${s.missing.map((p) => `--add-port=${firewalldPort(p)}`).join(" ")}`, { timeoutMs: 60_000 });
        if (s.podNetworkMissing) await ctx.run(`firewall-cmd --permanent --zone=trusted --add-source=${shq(podSubnet)}`, { timeoutMs: 60_000 });
        await ctx.run("firewall-cmd --reload", { timeoutMs: 120_000 });
        return;
      }
      // ufw: each allow is idempotent ("Skipping adding existing rule") and takes effect at once.
      for (const p of s.missing) await ctx.run(`ufw allow ${ufwPort(p)}`, { timeoutMs: 60_000 });
      if (s.podNetworkMissing) {
        await ctx.run(`ufw allow from ${shq(podSubnet)}`, { timeoutMs: 60_000 });
        await ctx.run(`ufw route allow from ${shq(podSubnet)}`, { timeoutMs: 60_000 });
      }
    },
    async verify(ctx) {
      const s = await state(ctx);
      if (!s.kind) return;
      const what = summary(s);
      if (what) {
        throw verifyFailed(ctx.host, id, `${s.kind} must let the Kubernetes and OMStack ports and the pod network through; ${what}`, s.kind === "firewalld" ? "run `firewall-cmd --list-all` on the host: the ports may be in another zone than the node's interface; move them there or set the default zone" : "run `ufw status verbose` on the host and look for a DENY rule placed before the omstack rules");
      }
    },
    describe(ctx) {
      const s = states.get(ctx.host);
      const list = wanted(ctx.host).map(firewalldPort).join(" ");
      if (!s) return [`if firewalld runs or ufw is active: open ${list} and let the pod network ${podSubnet} through`];
      if (!s.kind) return ["no host firewall active: nothing to open"];
      if (s.kind === "firewalld") return [`firewalld: firewall-cmd --permanent --add-port=… for ${s.missing.map(firewalldPort).join(" ") || "(none)"}${s.podNetworkMissing ? `; --zone=trusted --add-source=${podSubnet}` : ""}; firewall-cmd --reload`];
      return [`ufw: ufw allow ${s.missing.map(ufwPort).join(", ") || "(none)"}${s.podNetworkMissing ? `; ufw allow from ${podSubnet}; ufw route allow from ${podSubnet}` : ""}`];
    },
  };
}
