// The Kubernetes steps' pure parts on real lab captures, and their host behaviour on recording in-memory hosts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import { testNode, testPlan } from "../../plan/testing.js";
import type { Plan } from "../../plan/types.js";
import type { StepIo } from "../../executor/ports.js";
import { gatewayOf, parseRoutes, podNetworkFor, renderConflist, renderRoutesScript } from "./cni.js";
import { missingImages, parseCtrImages } from "./images.js";
import { k8sInit } from "./init.js";
import { JOIN_CONFIG_FILE, k8sJoinWorkers } from "./join.js";
import { parseNodes, parsePods } from "./kube.js";
import { kubernetesVersionTag, parseCertificateKey, parseJoinCommand, renderInitConfig, renderJoinConfig } from "./kubeadmConfig.js";
import { labelChanges } from "./labels.js";

const FIX = join(import.meta.dirname, "../../../../tests/fixtures/kube/lab-v1.34.4");
const fixture = (name: string) => readFileSync(join(FIX, name), "utf8");

function labPlan(over: { allowCgroupV1?: boolean; container?: boolean; dedicatedCp?: boolean } = {}): Plan {
  const cpTaints = over.dedicatedCp ? ["node-role.kubernetes.io/control-plane:NoSchedule"] : [];
  return testPlan(
    [
      testNode("lab1", { roles: over.dedicatedCp ? ["control-plane"] : ["control-plane", "worker"], address: "198.19.0.11", taints: cpTaints, restrictOomScoreAdj: over.container ?? true, labels: { "omstack.io/disk.ssd": "1" } }),
      testNode("lab2", { address: "198.19.0.12", restrictOomScoreAdj: over.container ?? true, labels: { "omstack.io/disk.ssd": "1" } }),
      testNode("lab3", { address: "198.19.0.13", restrictOomScoreAdj: over.container ?? true, labels: { "omstack.io/disk.ssd": "1" } }),
    ],
    {
      bundle: { version: "0.1.0-lab", cudaVersion: null, kubernetesVersion: "1.34.4", containerdVersion: "1.6.20" },
      cluster: { name: "lab", kubernetesVersion: "1.34.4", controlPlaneEndpoint: "198.19.0.11:6443", podSubnet: "198.19.128.0/17", serviceSubnet: "198.19.16.0/20", nodeCidrMaskSize: 24, allowCgroupV1: over.allowCgroupV1 ?? true, kubeProxyMode: "iptables", dnsDomain: "cluster.local" },
    },
  );
}

const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Record<string, any>);

describe("kubeadm configuration from the plan", () => {
  it("initialises offline with the plan's addresses, ranges and node registration", () => {
    const plan = labPlan();
    const [init, cluster, kubelet, proxy] = docsOf(renderInitConfig(plan, plan.nodes[0]!));
    expect(init).toEqual({
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "InitConfiguration",
      localAPIEndpoint: { advertiseAddress: "198.19.0.11", bindPort: 6443 },
      nodeRegistration: { name: "lab1", criSocket: "unix:///run/containerd/containerd.sock", imagePullPolicy: "Never", taints: [], kubeletExtraArgs: [{ name: "node-ip", value: "198.19.0.11" }] },
    });
    expect(cluster).toMatchObject({ kind: "ClusterConfiguration", kubernetesVersion: "v1.34.4", clusterName: "lab", controlPlaneEndpoint: "198.19.0.11:6443", networking: { podSubnet: "198.19.128.0/17", serviceSubnet: "198.19.16.0/20", dnsDomain: "cluster.local" } });
    expect(cluster!.controllerManager).toEqual({ extraArgs: [{ name: "node-cidr-mask-size", value: "24" }] });
    expect(kubelet).toEqual({ apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration", cgroupDriver: "systemd", failCgroupV1: false });
    expect(proxy).toEqual({ apiVersion: "kubeproxy.config.k8s.io/v1alpha1", kind: "KubeProxyConfiguration", mode: "iptables", conntrack: { maxPerCore: 0 } });
  });
  it("leaves cgroup v1 refusal and conntrack sizing at their defaults on ordinary hosts, and keeps a dedicated control plane tainted", () => {
    const plan = labPlan({ allowCgroupV1: false, container: false, dedicatedCp: true });
    const [init, , kubelet, proxy] = docsOf(renderInitConfig(plan, plan.nodes[0]!));
    expect(kubelet).not.toHaveProperty("failCgroupV1");
    expect(proxy).not.toHaveProperty("conntrack");
    expect(init!.nodeRegistration.taints).toEqual([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
  });
  it("refuses a version kubeadm would have to resolve online, and a node without an address", () => {
    expect(kubernetesVersionTag("1.34.4")).toBe("v1.34.4");
    expect(kubernetesVersionTag("v1.35.0")).toBe("v1.35.0");
    expect(() => kubernetesVersionTag("stable-1")).toThrow(/exact release/);
    expect(() => kubernetesVersionTag(null)).toThrow(expect.objectContaining({ remedy: expect.stringContaining("components.kubernetes") }));
    const plan = labPlan();
    plan.nodes[0]!.address = null;
    expect(() => renderInitConfig(plan, plan.nodes[0]!)).toThrow(/no address for this node/);
  });
  it("joins a control plane with its own advertise address and the certificate key", () => {
    const plan = labPlan();
    const cred = { apiServerEndpoint: "198.19.0.11:6443", token: "abcdef.0123456789abcdef", caCertHash: `sha256:${"0d".repeat(32)}`, certificateKey: "f".repeat(64) };
    const [join] = docsOf(renderJoinConfig(plan.nodes[1]!, cred, true));
    expect(join).toMatchObject({ kind: "JoinConfiguration", discovery: { bootstrapToken: { apiServerEndpoint: "198.19.0.11:6443", token: cred.token, caCertHashes: [cred.caCertHash] } }, controlPlane: { localAPIEndpoint: { advertiseAddress: "198.19.0.12", bindPort: 6443 }, certificateKey: cred.certificateKey } });
    expect(docsOf(renderJoinConfig(plan.nodes[1]!, cred, false))[0]).not.toHaveProperty("controlPlane");
    expect(() => renderJoinConfig(plan.nodes[1]!, { ...cred, certificateKey: undefined }, true)).toThrow(/certificate key/);
  });
  it("reads kubeadm's join command and certificate key, and refuses anything else", () => {
    const hash = `sha256:${"a1".repeat(32)}`;
    expect(parseJoinCommand(`kubeadm join 198.19.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${hash} \n`)).toEqual({ apiServerEndpoint: "198.19.0.11:6443", token: "abcdef.0123456789abcdef", caCertHash: hash });
    expect(parseJoinCommand("error: could not connect\n")).toBeNull();
    expect(parseJoinCommand(`kubeadm join x:6443 --token NOTATOKEN --discovery-token-ca-cert-hash ${hash}`)).toBeNull();
    expect(parseCertificateKey(`[upload-certs] Using certificate key:\n${"3c".repeat(32)}\n`)).toBe("3c".repeat(32));
    expect(parseCertificateKey("[upload-certs] failed\n")).toBeNull();
  });
});

describe("real lab captures", () => {
  it("ctr images ls: the bundle's images by digest", () => {
    const have = parseCtrImages(fixture("ctr-images-ls.txt"));
    expect(have.get("registry.k8s.io/pause:3.10.1")).toMatch(/^sha256:[0-9a-f]{64}$/);
    const wanted = [{ name: "registry.k8s.io/pause:3.10.1", digest: have.get("registry.k8s.io/pause:3.10.1")! }, { name: "registry.k8s.io/etcd:3.6.5-0", digest: `sha256:${"0".repeat(64)}` }, { name: "example.org/absent:1", digest: `sha256:${"1".repeat(64)}` }];
    expect(missingImages(have, wanted)).toEqual(["registry.k8s.io/etcd:3.6.5-0", "example.org/absent:1"]);
    for (const line of fixture("kubeadm-config-images-list.txt").trim().split("\n")) expect(have.has(line)).toBe(true);
  });
  it("nodes and pods: ready, addresses, podCIDRs", () => {
    const nodes = parseNodes(fixture("nodes.json"), "lab1");
    expect(nodes.map((n) => [n.name, n.internalIP, n.ready])).toEqual([["lab1", "198.19.0.11", true], ["lab2", "198.19.0.12", true], ["lab3", "198.19.0.13", true]]);
    expect(nodes.every((n) => n.podCIDR?.startsWith("198.19."))).toBe(true);
    const pods = parsePods(fixture("kube-system-pods.json"), "lab1");
    expect(pods.length).toBeGreaterThanOrEqual(9);
    expect(pods.every((p) => p.ready && p.phase === "Running")).toBe(true);
    expect(() => parseNodes("<html>", "lab1")).toThrow(/not JSON/);
    expect(() => parseNodes('{"kind":"Pod"}', "lab1")).toThrow(/did not print a node list/);
  });
  it("the routes the CNI step derives from the node objects are the ones lab1 has", () => {
    const nodes = parseNodes(fixture("nodes.json"), "lab1");
    const net = podNetworkFor("lab1", nodes)!;
    const live = parseRoutes(fixture("ip-route-lab1.txt"));
    expect(net.routes.length).toBe(2);
    for (const r of net.routes) expect(live.get(r.cidr)).toBe(r.via);
    expect(renderRoutesScript(net)).toContain(`ip route replace ${net.routes[0]!.cidr} via ${net.routes[0]!.via}`);
    expect(JSON.parse(renderConflist(net)).plugins[0].ipam.ranges[0][0].subnet).toBe(net.podCIDR);
    const lab2 = podNetworkFor("lab2", nodes)!;
    expect(fixture("ip-addr-cni0-lab2.txt")).toContain(` ${gatewayOf(lab2.podCIDR)} `);
    expect(podNetworkFor("lab9", nodes)).toBeNull();
  });
  it("labels: the labelled lab nodes need no change; a stray control-plane taint is removed; missing labels are set", () => {
    const nodes = parseNodes(fixture("nodes.json"), "lab1");
    const plan = labPlan();
    for (const n of plan.nodes) expect(labelChanges(n, nodes.find((x) => x.name === n.host)!)).toEqual([]);
    const tainted = { ...nodes[0]!, taints: ["node-role.kubernetes.io/control-plane:NoSchedule"] };
    expect(labelChanges(plan.nodes[0]!, tainted)).toEqual([["taint", "node", "lab1", "node-role.kubernetes.io/control-plane:NoSchedule-"]]);
    const bare = { ...nodes[1]!, labels: {} };
    expect(labelChanges(plan.nodes[1]!, bare)).toEqual([["label", "node", "lab2", "--overwrite", "omstack.io/disk.ssd=1", "node-role.kubernetes.io/worker="]]);
  });
});

const ioFor = (lines: string[]): StepIo => ({ log: (l) => lines.push(l), note: (m) => lines.push(`note: ${m}`) });

describe("steps on recording hosts", () => {
  it("k8s.init refuses to run kubeadm init when an image kubeadm needs is not in containerd (never pulls)", async () => {
    const hosts = new MemoryHosts(["lab1"]);
    const ctrOut = fixture("ctr-images-ls.txt").split("\n").filter((l) => !l.startsWith("registry.k8s.io/etcd:")).join("\n");
    hosts.commandHandler = (_h, cmd) => (cmd.startsWith("kubeadm config images list") ? { stdout: fixture("kubeadm-config-images-list.txt") } : cmd.startsWith("ctr -n k8s.io images ls") ? { stdout: ctrOut } : undefined);
    const step = k8sInit();
    step.targets(labPlan());
    const h = await hosts.open("lab1");
    await expect(step.apply(soloWriter(h.writer(ioFor([]))))).rejects.toMatchObject({ code: "E_IMAGE_MISSING", message: expect.stringContaining("registry.k8s.io/etcd:3.6.5-0") });
    expect(hosts.writes.filter((w) => w.op === "run").map((w) => w.target)).toEqual(["kubeadm config images list --config /etc/omstack/kubeadm/init.yaml"]);
  });

  it("k8s.join-workers makes a fresh token on the control plane, never logs it, resets a half-joined node, and removes the join file", async () => {
    const hosts = new MemoryHosts(["lab1", "lab2"]);
    const token = "q7w8e9.r1t2y3u4i5o6p7a8";
    hosts.put("lab2", "/etc/kubernetes/kubelet.conf", "stale\n"); // an earlier join died half-way
    hosts.put("lab1", "/etc/kubernetes/admin.conf", "admin\n");
    hosts.commands.add("kubectl");
    let nodeExists = true;
    hosts.commandHandler = (host, cmd) => {
      if (host === "lab1" && cmd.startsWith("kubeadm token create")) return { stdout: `kubeadm join 198.19.0.11:6443 --token ${token} --discovery-token-ca-cert-hash sha256:${"be".repeat(32)} \n` };
      if (host === "lab1" && cmd.includes(" get node lab2 ")) return nodeExists ? { stdout: "node/lab2\n" } : { exitCode: 1, stderr: 'Error from server (NotFound): nodes "lab2" not found' };
      if (host === "lab1" && cmd.includes(" delete node lab2 ")) nodeExists = false;
      if (host === "lab2" && cmd.startsWith("kubeadm join")) {
        const file = hosts.fs("lab2").get(JOIN_CONFIG_FILE)!;
        expect(file.mode).toBe(0o600);
        expect(file.content.toString()).toContain(`token: ${token}`);
        nodeExists = true;
      }
      return undefined;
    };
    const step = k8sJoinWorkers();
    expect(step.targets(labPlan())).toEqual(["lab2", "lab3"]);
    const log: string[] = [];
    const h2 = await hosts.open("lab2");
    const h1 = await hosts.open("lab1");
    await step.apply(soloWriter(h2.writer(ioFor(log)), async () => h1.writer(ioFor(log))));
    const runs = hosts.writes.filter((w) => w.op === "run").map((w) => `${w.host}: ${w.target}`);
    expect(runs).toEqual([
      "lab2: kubeadm reset -f --cri-socket unix:///run/containerd/containerd.sock",
      "lab1: kubectl --kubeconfig /etc/kubernetes/admin.conf delete node lab2 --ignore-not-found --request-timeout=60s",
      "lab1: kubeadm token create --print-join-command --ttl 15m",
      "lab2: kubeadm join --config '/etc/omstack/kubeadm/join.yaml'",
    ]);
    expect(hosts.fs("lab2").has(JOIN_CONFIG_FILE)).toBe(false);
    expect(log.join("\n")).not.toContain(token);
    expect(log.some((l) => l.includes("an earlier join did not finish"))).toBe(true);
    expect(await step.check(soloReader(h2.reader(ioFor([])), async () => h1.reader(ioFor([]))))).toBe("done");
  });
});
