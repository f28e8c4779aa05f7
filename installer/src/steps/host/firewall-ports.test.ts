// host.firewall-ports: the ports per role, parsers on real captured firewall-cmd / ufw outputs (testdata/firewall,
// SOURCE.md), and the step on in-memory hosts with firewalld running, ufw active, or no firewall at all.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import type { StepIo } from "../../executor/ports.js";
import { testNode, testPlan } from "../../plan/testing.js";
import { firewalldPort, hostFirewallPorts, missingPorts, parseFirewalldPorts, parseUfwAllowed, parseUfwSources, portsFor, ufwActive } from "./firewall-ports.js";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "testdata", "firewall", name), "utf8");
const io = (notes: string[] = []): StepIo => ({ log: () => {}, note: (m) => notes.push(m) });

const PLAN = testPlan([testNode("cp1", { roles: ["control-plane"] }), testNode("cp2", { roles: ["control-plane", "worker"] }), testNode("w1", { roles: ["worker"] })]);
const ports = (host: string) => portsFor(PLAN, host).map(firewalldPort);

describe("ports per role", () => {
  it("first control plane, other control planes, workers", () => {
    expect(ports("cp1")).toEqual(["2379-2380/tcp", "6443/tcp", "9443/tcp", "10250/tcp", "10256/tcp", "10257/tcp", "10259/tcp", "30000-32767/tcp"]);
    expect(ports("cp2")).toEqual(["2379-2380/tcp", "6443/tcp", "10250/tcp", "10256/tcp", "10257/tcp", "10259/tcp", "30000-32767/tcp"]);
    expect(ports("w1")).toEqual(["10250/tcp", "10256/tcp", "30000-32767/tcp"]);
    expect(ports("not-in-plan")).toEqual([]);
  });
});

describe("parsers on real outputs", () => {
  it("firewall-cmd --list-ports: empty, one port, a Kubernetes node's list with ranges", () => {
    expect(parseFirewalldPorts(fixture("firewalld-list-ports-empty.txt"))).toEqual([]);
    expect(parseFirewalldPorts(fixture("firewalld-list-ports-8000.txt"))).toEqual([{ from: 8000, to: 8000 }]);
    const line = /^\s*ports: (.*)$/m.exec(fixture("firewalld-list-all-k8s.txt"))![1]!;
    const open = parseFirewalldPorts(line);
    expect(open).toEqual([{ from: 179, to: 179 }, { from: 6443, to: 6443 }, { from: 2379, to: 2380 }, { from: 10242, to: 10250 }, { from: 30000, to: 32767 }]);
    // that node lacks kube-proxy's, the scheduler's and the controller-manager's ports (and the admin service's)
    expect(missingPorts(portsFor(PLAN, "cp1"), open).map(firewalldPort)).toEqual(["9443/tcp", "10256/tcp", "10257/tcp", "10259/tcp"]);
    expect(parseFirewalldPorts("53/udp 2379/tcp 2380/tcp")).toEqual([{ from: 2379, to: 2379 }, { from: 2380, to: 2380 }]);
  });

  it("ufw status: active, IPv4 allow-from-anywhere TCP ranges, bare ports count for TCP, v6 and app rules ignored", () => {
    const workers = fixture("ufw-status-workers.txt");
    expect(ufwActive(workers)).toBe(true);
    expect(parseUfwAllowed(workers)).toEqual([{ from: 10250, to: 10250 }, { from: 30000, to: 32767 }]);
    expect(missingPorts(portsFor(PLAN, "w1"), parseUfwAllowed(workers)).map(firewalldPort)).toEqual(["10256/tcp"]);
    const verbose = fixture("ufw-status-verbose.txt");
    expect(ufwActive(verbose)).toBe(true);
    expect(parseUfwAllowed(verbose)).toEqual([{ from: 22, to: 22 }, { from: 10250, to: 10250 }, { from: 10255, to: 10255 }, { from: 30000, to: 32767 }]);
    expect(ufwActive("Status: inactive\n")).toBe(false);
  });

  it("ufw status: rules limited to a source network do not open a port to everyone; ALLOW FWD rules are routes", () => {
    const fwd = fixture("ufw-status-fwd.txt");
    expect(parseUfwAllowed(fwd)).toEqual([]); // 22 only from two VLANs, 41641 is UDP
    expect(parseUfwSources(fwd)).toEqual({ allowIn: new Set(), routeFrom: new Set() }); // "Anywhere on ens18" is an interface rule
    const ours = "Anywhere                   ALLOW       10.244.0.0/16\nAnywhere                   ALLOW FWD   10.244.0.0/16\n";
    expect(parseUfwSources(ours)).toEqual({ allowIn: new Set(["10.244.0.0/16"]), routeFrom: new Set(["10.244.0.0/16"]) });
  });

  it("missingPorts: ranges covered by several rules together count as open", () => {
    expect(missingPorts([{ from: 2379, to: 2380, why: "" }], [{ from: 2379, to: 2379 }, { from: 2380, to: 2380 }])).toEqual([]);
    expect(missingPorts([{ from: 30000, to: 32767, why: "" }], [{ from: 30000, to: 31000 }, { from: 31002, to: 32767 }])).toHaveLength(1);
  });
});

/** A memory host with firewalld running whose permanent+runtime ports and trusted sources follow the commands run. */
function firewalldHost(initialPorts: string, sources = "") {
  const hosts = new MemoryHosts(["cp1"]);
  hosts.commands.add("firewall-cmd");
  let runtime = { ports: initialPorts, sources };
  let permanent = { ...runtime };
  hosts.commandHandler = (_h, cmd) => {
    if (cmd === "firewall-cmd --state") return { stdout: "running\n" };
    if (cmd === "firewall-cmd --list-ports") return { stdout: `${runtime.ports}\n` };
    if (cmd === "firewall-cmd --zone=trusted --list-sources") return { stdout: `${runtime.sources}\n` };
    if (cmd.startsWith("firewall-cmd --permanent --add-port")) {
      const added = [...cmd.matchAll(/--add-port=(\S+)/g)].map((m) => m[1]);
      permanent = { ...permanent, ports: [permanent.ports, ...added].filter(Boolean).join(" ") };
      return { stdout: "success\n" };
    }
    if (cmd.startsWith("firewall-cmd --permanent --zone=trusted --add-source=")) {
      permanent = { ...permanent, sources: [permanent.sources, cmd.split("=").at(-1)!.replace(/'/g, "")].filter(Boolean).join(" ") };
      return { stdout: "success\n" };
    }
    if (cmd === "firewall-cmd --reload") {
      runtime = { ...permanent };
      return { stdout: "success\n" };
    }
    return { exitCode: 127, stderr: `unexpected: ${cmd}` };
  };
  return hosts;
}

const runs = (hosts: MemoryHosts) => hosts.writes.filter((w) => w.op === "run").map((w) => w.target);

async function phases(hosts: MemoryHosts, host: string, notes: string[] = []) {
  const step = hostFirewallPorts();
  step.targets(PLAN);
  const h = await hosts.open(host);
  return { step, read: soloReader(h.reader(io(notes))), write: soloWriter(h.writer(io(notes))) };
}

describe("host.firewall-ports with firewalld", () => {
  it("adds only the missing ports and the pod subnet as trusted source, --permanent, then one --reload; then done", async () => {
    const line = /^\s*ports: (.*)$/m.exec(fixture("firewalld-list-all-k8s.txt"))![1]!;
    const hosts = firewalldHost(line);
    const { step, read, write } = await phases(hosts, "cp1");
    expect(await step.check(read)).toEqual({ pending: "firewalld is active: ports 9443/tcp 10256/tcp 10257/tcp 10259/tcp closed; pod network 10.244.0.0/16 not let through" });
    expect(step.describe(read)).toEqual(["firewalld: firewall-cmd --permanent --add-port=… for 9443/tcp 10256/tcp 10257/tcp 10259/tcp; --zone=trusted --add-source=10.244.0.0/16; firewall-cmd --reload"]);
    expect(hosts.writes).toEqual([]);
    await step.apply(write);
    expect(runs(hosts)).toEqual([
      "firewall-cmd --permanent --add-port=9443/tcp --add-port=10256/tcp --add-port=10257/tcp --add-port=10259/tcp",
      "firewall-cmd --permanent --zone=trusted --add-source='10.244.0.0/16'",
      "firewall-cmd --reload",
    ]);
    await step.verify(read);
    expect(await step.check(read)).toBe("done");
  });

  it("verify fails when the ports did not reach the running configuration (e.g. another zone)", async () => {
    const hosts = firewalldHost("");
    const inner = hosts.commandHandler;
    hosts.commandHandler = (h, cmd, fs) => (cmd === "firewall-cmd --reload" ? { stdout: "success\n" } : inner(h, cmd, fs));
    const { step, read, write } = await phases(hosts, "w1");
    await step.apply(write);
    await expect(step.verify(read)).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining("ports 10250/tcp 10256/tcp 30000-32767/tcp closed"), remedy: expect.stringContaining("firewall-cmd --list-all") });
  });
});

describe("host.firewall-ports with ufw", () => {
  it("the real worker capture: opens 10256/tcp and lets the pod subnet in and through", async () => {
    const hosts = new MemoryHosts(["w1"]);
    hosts.commands.add("ufw");
    let status = fixture("ufw-status-workers.txt");
    hosts.commandHandler = (_h, cmd) => {
      if (cmd === "ufw status") return { stdout: status };
      if (cmd === "ufw allow 10256/tcp") status += "10256/tcp                  ALLOW       Anywhere\n";
      else if (cmd === "ufw allow from '10.244.0.0/16'") status += "Anywhere                   ALLOW       10.244.0.0/16\n";
      else if (cmd === "ufw route allow from '10.244.0.0/16'") status += "Anywhere                   ALLOW FWD   10.244.0.0/16\n";
      else return { exitCode: 127, stderr: `unexpected: ${cmd}` };
      return { stdout: "Rule added\n" };
    };
    const { step, read, write } = await phases(hosts, "w1");
    expect(await step.check(read)).toEqual({ pending: "ufw is active: ports 10256/tcp closed; pod network 10.244.0.0/16 not let through" });
    await step.apply(write);
    expect(runs(hosts)).toEqual(["ufw allow 10256/tcp", "ufw allow from '10.244.0.0/16'", "ufw route allow from '10.244.0.0/16'"]);
    await step.verify(read);
    expect(await step.check(read)).toBe("done");
  });

  it("ufw installed but inactive, firewalld installed but not running: no firewall, a note, nothing run", async () => {
    const hosts = new MemoryHosts(["w1"]);
    hosts.commands.add("ufw").add("firewall-cmd");
    hosts.commandHandler = (_h, cmd) => (cmd === "firewall-cmd --state" ? { stdout: "not running\n", exitCode: 252 } : cmd === "ufw status" ? { stdout: "Status: inactive\n" } : { exitCode: 127 });
    const notes: string[] = [];
    const { step, read, write } = await phases(hosts, "w1", notes);
    expect(await step.check(read)).toBe("done");
    expect(step.describe(read)).toEqual(["no host firewall active: nothing to open"]);
    await step.apply(write);
    expect(notes).toEqual(["no host firewall active (neither firewalld running nor ufw active): no ports to open"]);
    expect(hosts.writes).toEqual([]);
    await step.verify(read);
  });

  it("a host without either tool: done without a single query", async () => {
    const hosts = new MemoryHosts(["w1"]);
    const { step, read } = await phases(hosts, "w1");
    expect(await step.check(read)).toBe("done");
    expect(hosts.queries).toEqual([]);
  });

  it("a pod subnet that is not a CIDR is refused when the plan is read", () => {
    const bad = testPlan(["w1"]);
    bad.cluster.podSubnet = "10.244.0.0/16; reboot";
    expect(() => hostFirewallPorts().targets(bad)).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringContaining("is not a CIDR") }));
  });
});
