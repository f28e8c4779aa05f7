// Small Plan builders for tests of steps and the executor: one place knows every required field.
import { DEFAULT_NETWORK } from "./buildPlan.js";
import type { Plan, PlanNode } from "./types.js";

/** A plan node with harmless defaults; tests override what they exercise. */
export function testNode(host: string, over: Partial<PlanNode> = {}): PlanNode {
  return { host, roles: ["worker"], labels: {}, taints: [], disks: [], rdmaInterface: null, address: null, restrictOomScoreAdj: false, reasons: [], ...over };
}

/** A plan over the given nodes (host names or nodes), Kubernetes settings at their defaults. */
export function testPlan(nodes: (string | PlanNode)[], over: Partial<Omit<Plan, "nodes">> = {}): Plan {
  return {
    formatVersion: 1,
    bundle: { version: null, cudaVersion: null, kubernetesVersion: null, containerdVersion: null },
    cluster: {
      name: "omstack",
      kubernetesVersion: null,
      controlPlaneEndpoint: null,
      podSubnet: DEFAULT_NETWORK.podSubnet,
      serviceSubnet: DEFAULT_NETWORK.serviceSubnet,
      nodeCidrMaskSize: DEFAULT_NETWORK.nodeCidrMaskSize,
      allowCgroupV1: false,
      kubeProxyMode: "iptables",
      dnsDomain: DEFAULT_NETWORK.dnsDomain,
    },
    services: [],
    bypassedChecks: [],
    excluded: [],
    decisions: [],
    ...over,
    nodes: nodes.map((n) => (typeof n === "string" ? testNode(n) : n)),
  };
}
