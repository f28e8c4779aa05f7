// Pure: kubeadm's InitConfiguration/ClusterConfiguration/KubeletConfiguration/KubeProxyConfiguration and
// JoinConfiguration (v1beta4, Kubernetes ≥ 1.31) generated from the plan. Offline by construction: every node
// registers with imagePullPolicy Never, so a missing image is an error naming it, never a download.
import { stringify } from "yaml";
import { OmstackError } from "../../errors.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { API_PORT, CRI_SOCKET, nodeAddress, parseTaint } from "./kube.js";

/** "1.34.4" or "v1.34.4" → "v1.34.4"; anything else is refused (kubeadm would try to resolve a label online). */
export function kubernetesVersionTag(v: string | null): string {
  const m = v === null ? null : /^v?(\d+\.\d+\.\d+)$/.exec(v.trim());
  if (!m) {
    throw new OmstackError("E_STEP_CONFIG", `the bundle's Kubernetes version must be an exact release like 1.34.4; found ${JSON.stringify(v)}`, {
      remedy: "install from a bundle whose bundle.json names components.kubernetes (omstack bundle inspect shows it)",
    });
  }
  return `v${m[1]}`;
}

/** The plan's taints in kubeadm's form (an empty list means "no taint", so a control plane that is also a worker is schedulable). */
function taints(node: PlanNode): { key: string; value?: string; effect: string }[] {
  return node.taints.map(parseTaint).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect }));
}

function nodeRegistration(node: PlanNode) {
  return {
    name: node.host,
    criSocket: CRI_SOCKET,
    imagePullPolicy: "Never",
    taints: taints(node),
    kubeletExtraArgs: [{ name: "node-ip", value: nodeAddress(node) }],
  };
}

const docs = (...d: object[]) => d.map((x) => stringify(x, { lineWidth: 0 })).join("---\n");

/** Does any node run in a container (no CAP_SYS_RESOURCE)? Then kube-proxy must not set the host-wide conntrack table size. */
function containerHosts(plan: Plan): boolean {
  return plan.nodes.some((n) => n.restrictOomScoreAdj);
}

/** The configuration `kubeadm init` runs with on the first control plane. */
export function renderInitConfig(plan: Plan, node: PlanNode): string {
  const c = plan.cluster;
  if (!c.controlPlaneEndpoint) throw new OmstackError("E_STEP_CONFIG", "the plan has no API endpoint", { remedy: "give the control-plane host an IP address as its inventory address, or set cluster.controlPlaneEndpoint" });
  return docs(
    {
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "InitConfiguration",
      localAPIEndpoint: { advertiseAddress: nodeAddress(node), bindPort: API_PORT },
      nodeRegistration: nodeRegistration(node),
    },
    {
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "ClusterConfiguration",
      kubernetesVersion: kubernetesVersionTag(c.kubernetesVersion),
      clusterName: c.name,
      controlPlaneEndpoint: c.controlPlaneEndpoint,
      networking: { podSubnet: c.podSubnet, serviceSubnet: c.serviceSubnet, dnsDomain: c.dnsDomain },
      controllerManager: { extraArgs: [{ name: "node-cidr-mask-size", value: String(c.nodeCidrMaskSize) }] },
    },
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      cgroupDriver: "systemd",
      ...(c.allowCgroupV1 ? { failCgroupV1: false } : {}),
    },
    {
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      mode: c.kubeProxyMode,
      ...(containerHosts(plan) ? { conntrack: { maxPerCore: 0 } } : {}),
    },
  );
}

/** What a join needs from the running control plane (fresh for every join: a token lives 15 minutes). */
export interface JoinCredentials {
  apiServerEndpoint: string;
  token: string;
  caCertHash: string;
  /** For a control-plane join: the key `kubeadm init phase upload-certs` printed (valid 2 hours). */
  certificateKey?: string;
}

/** The configuration `kubeadm join` runs with on a node (written 0600, removed after the join: it holds a token). */
export function renderJoinConfig(node: PlanNode, cred: JoinCredentials, controlPlane: boolean): string {
  if (controlPlane && !cred.certificateKey) throw new OmstackError("E_STEP_CONFIG", `${node.host}: a control-plane join needs a certificate key`, { host: node.host, remedy: "this is a bug in the join step; please report it" });
  return docs({
    apiVersion: "kubeadm.k8s.io/v1beta4",
    kind: "JoinConfiguration",
    discovery: { bootstrapToken: { apiServerEndpoint: cred.apiServerEndpoint, token: cred.token, caCertHashes: [cred.caCertHash] } },
    nodeRegistration: nodeRegistration(node),
    ...(controlPlane ? { controlPlane: { localAPIEndpoint: { advertiseAddress: nodeAddress(node), bindPort: API_PORT }, certificateKey: cred.certificateKey } } : {}),
  });
}

/** Reads `kubeadm token create --print-join-command`: `kubeadm join HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H`. */
export function parseJoinCommand(text: string): Omit<JoinCredentials, "certificateKey"> | null {
  const line = text.split("\n").find((l) => l.trim().startsWith("kubeadm join "));
  if (!line) return null;
  const endpoint = /kubeadm join (\S+)/.exec(line)?.[1];
  const token = /--token (\S+)/.exec(line)?.[1];
  const hash = /--discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(line)?.[1];
  if (!endpoint || !token || !hash || !/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(token)) return null;
  return { apiServerEndpoint: endpoint, token, caCertHash: hash };
}

/** The certificate key is the last line of `kubeadm init phase upload-certs --upload-certs` (64 hex digits). */
export function parseCertificateKey(text: string): string | null {
  const last = text.trim().split("\n").pop()?.trim() ?? "";
  return /^[0-9a-f]{64}$/.test(last) ? last : null;
}
