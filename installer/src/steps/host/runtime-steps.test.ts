// host.containerd-config and host.kubelet-unit on in-memory hosts: exact texts, bad settings, and the systemd branches
// (restart / daemon-reload once per change, finished after a crash) that the SSH test hosts cannot show.
import { describe, expect, it } from "vitest";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import { testNode, testPlan } from "../../plan/testing.js";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import type { StepIo } from "../../executor/ports.js";
import type { Plan } from "../../plan/types.js";
import {
  CONTAINERD_APPLIED_STAMP,
  CONTAINERD_CONFIG_FILE,
  CONTAINERD_SOCKET,
  DEFAULT_PAUSE_IMAGE,
  hostContainerdConfig,
  renderContainerdConfig,
  validateContainerdOptions,
} from "./containerd-config.js";
import { hostKubeletUnit, KUBEADM_DROPIN_FILE, KUBELET_DEFAULTS_FILE, KUBELET_UNIT_FILE, KUBELET_UNIT_STAMP, kubeletMaySetLabel, renderKubeletFiles } from "./kubelet-unit.js";
import { hostPreparationSteps } from "../index.js";

const io = (notes: string[] = []): StepIo => ({ log: () => {}, note: (m) => notes.push(m) });

function plan(nodes: { host: string; labels?: Record<string, string> }[]): Plan {
  return testPlan(nodes.map((n) => testNode(n.host, { labels: n.labels ?? {} })));
}

/** A memory host where systemd is PID 1 and systemctl exists. */
function withSystemd(hosts: MemoryHosts, host: string): void {
  hosts.put(host, "/run/systemd/system/.present", "");
  hosts.commands.add("systemctl");
}

const runs = (hosts: MemoryHosts, host: string) => hosts.writes.filter((w) => w.host === host && w.op === "run").map((w) => w.target);

describe("host.containerd-config", () => {
  it("renders the lab's settings as one exact file", () => {
    expect(renderContainerdConfig(validateContainerdOptions({ restrictOomScoreAdj: true }))).toBe(
      [
        "# Managed by omstack (host.containerd-config); edits here are overwritten on the next install.",
        "# No registry mirror is configured: images come from the bundle, imported before they are needed.",
        "version = 2",
        "",
        '[plugins."io.containerd.grpc.v1.cri"]',
        '  sandbox_image = "registry.k8s.io/pause:3.10.1"',
        "  restrict_oom_score_adj = true",
        "",
        '[plugins."io.containerd.grpc.v1.cri".containerd]',
        '  default_runtime_name = "runc"',
        "",
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '  runtime_type = "io.containerd.runc.v2"',
        "",
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        "  SystemdCgroup = true",
        "",
        '[plugins."io.containerd.grpc.v1.cri".cni]',
        '  bin_dir = "/usr/lib/cni"',
        '  conf_dir = "/etc/cni/net.d"',
        "",
        '[plugins."io.containerd.grpc.v1.cri".registry]',
        '  config_path = "/etc/containerd/certs.d"',
        "",
      ].join("\n"),
    );
    const custom = renderContainerdConfig(validateContainerdOptions({ sandboxImage: "omstack.local:5000/pause@sha256:" + "ab".repeat(32), cniBinDir: "/opt/cni/bin/", registryConfigPath: "/var/lib/omstack/registry" }));
    expect(custom).toContain('sandbox_image = "omstack.local:5000/pause@sha256:abab');
    expect(custom).toContain("restrict_oom_score_adj = false");
    expect(custom).toContain('bin_dir = "/opt/cni/bin"\n');
    expect(custom).toContain('config_path = "/var/lib/omstack/registry"');
    expect(custom).not.toMatch(/mirrors|endpoint/);
    expect(DEFAULT_PAUSE_IMAGE).toBe("registry.k8s.io/pause:3.10.1");
  });

  it.each([
    [{ sandboxImage: "registry.k8s.io/pause" }, /is not an image reference with a tag or digest/],
    [{ sandboxImage: 'registry.k8s.io/pause:3.10"\n[x]' }, /is not an image reference/],
    [{ sandboxImage: "Registry.k8s.io/Pause:3.10.1" }, /is not an image reference/],
    [{ cniBinDir: "usr/lib/cni" }, /CNI bin_dir must be an absolute local directory/],
    [{ cniConfDir: '/etc/cni/net.d"' }, /CNI conf_dir must be an absolute local directory/],
    [{ registryConfigPath: "/etc/containerd/../../tmp" }, /registry config_path must be an absolute local directory/],
  ])("rejects bad setting %j", (o, message) => {
    expect(() => hostContainerdConfig(o)).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(message) }));
  });

  it("without containerd: writes the file 0644, restarts nothing, notes it; verify fails after an edit", async () => {
    const hosts = new MemoryHosts(["h"]);
    const step = hostContainerdConfig({ restrictOomScoreAdj: true });
    const h = await hosts.open("h");
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: `${CONTAINERD_CONFIG_FILE} is missing or differs` });
    const notes: string[] = [];
    await step.apply(soloWriter(h.writer(io(notes))));
    expect(notes).toEqual([expect.stringMatching(/^containerd not installed: config written, service not restarted/)]);
    expect(hosts.fs("h").get(CONTAINERD_CONFIG_FILE)?.mode).toBe(0o644);
    expect(hosts.text("h", CONTAINERD_CONFIG_FILE)).toBe(renderContainerdConfig(validateContainerdOptions({ restrictOomScoreAdj: true })));
    expect(runs(hosts, "h")).toEqual([]);
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
    await expect(step.verify(soloReader(h.reader(io())))).resolves.toBeUndefined();

    hosts.put("h", CONTAINERD_CONFIG_FILE, hosts.text("h", CONTAINERD_CONFIG_FILE)!.replace("SystemdCgroup = true", "SystemdCgroup = false"));
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: expect.stringContaining("differs") });
    await expect(step.verify(soloReader(h.reader(io())))).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining(`${CONTAINERD_CONFIG_FILE} must hold omstack's containerd configuration`) });
    hosts.fs("h").get(CONTAINERD_CONFIG_FILE)!.content = Buffer.from(renderContainerdConfig(validateContainerdOptions({ restrictOomScoreAdj: true })));
    hosts.fs("h").get(CONTAINERD_CONFIG_FILE)!.mode = 0o600;
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: `${CONTAINERD_CONFIG_FILE} has mode 600 (want 644)` });
    await expect(step.verify(soloReader(h.reader(io())))).rejects.toThrow(/must have mode 644; it has 600/);
  });

  it("notes when containerd is installed but systemd is not PID 1", async () => {
    const hosts = new MemoryHosts(["h"]);
    hosts.commands.add("containerd");
    hosts.put("h", "/lib/systemd/system/containerd.service", "[Service]\n");
    const notes: string[] = [];
    await hostContainerdConfig().apply(soloWriter((await hosts.open("h")).writer(io(notes))));
    expect(notes).toEqual([expect.stringMatching(/^systemd is not PID 1 on this host .*containerd not restarted/)]);
    expect(runs(hosts, "h")).toEqual([]);
  });

  it("under systemd: restarts once per change, finishes a restart a failure cut off, and verify wants the socket", async () => {
    const hosts = new MemoryHosts(["h"]);
    withSystemd(hosts, "h");
    hosts.put("h", "/usr/lib/systemd/system/containerd.service", "[Service]\n");
    let failRestart = true;
    hosts.commandHandler = (_h, cmd, fs) => {
      if (!cmd.includes("systemctl restart containerd")) return undefined;
      if (failRestart) return { exitCode: 1, stderr: "Job for containerd.service failed." };
      fs.set(CONTAINERD_SOCKET, { content: Buffer.alloc(0), mode: 0o660 });
      return undefined;
    };
    const step = hostContainerdConfig();
    const h = await hosts.open("h");
    await expect(step.apply(soloWriter(h.writer(io())))).rejects.toMatchObject({ code: "E_COMMAND_FAILED" });
    expect(hosts.text("h", CONTAINERD_APPLIED_STAMP)).toBeNull();
    // The file is right, but containerd never read it: not done, and the next apply restarts without rewriting the file.
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: "containerd has not been restarted since its configuration changed" });
    await expect(step.verify(soloReader(h.reader(io())))).rejects.toThrow(/must have been restarted with this configuration/);
    failRestart = false;
    hosts.writes.length = 0;
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.map((w) => `${w.op} ${w.target}`)).toEqual(["run systemctl enable containerd.service && systemctl restart containerd.service", `writeFile ${CONTAINERD_APPLIED_STAMP}`]);
    expect(hosts.fs("h").get(CONTAINERD_APPLIED_STAMP)?.mode).toBe(0o600);
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
    await expect(step.verify(soloReader(h.reader(io())))).resolves.toBeUndefined();

    hosts.writes.length = 0;
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes).toEqual([]);

    // Another pause image: the file changes and containerd restarts once more.
    const other = hostContainerdConfig({ sandboxImage: "registry.k8s.io/pause:3.10" });
    expect(await other.check(soloReader(h.reader(io())))).toEqual({ pending: `${CONTAINERD_CONFIG_FILE} is missing or differs` });
    await other.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.map((w) => w.op)).toEqual(["writeFile", "run", "writeFile"]);
    hosts.fs("h").delete(CONTAINERD_SOCKET);
    await expect(other.verify(soloReader(h.reader(io())))).rejects.toThrow(`containerd must serve ${CONTAINERD_SOCKET} after its restart`);
  });
});

describe("host.kubelet-unit", () => {
  it("lets the kubelet set only the labels NodeRestriction allows it", () => {
    const table: [string, boolean][] = [
      ["omstack.io/rack", true],
      ["kubernetes.io/hostname", true],
      ["topology.kubernetes.io/zone", true],
      ["node.kubernetes.io/instance-type", true],
      ["example.node.kubernetes.io/pool", true],
      ["kubelet.kubernetes.io/x", true],
      ["node-role.kubernetes.io/worker", false],
      ["node-restriction.kubernetes.io/tier", false],
      ["kubernetes.io/role", false],
      ["example.k8s.io/x", false],
      ["rack", true],
    ];
    expect(table.map(([k]) => [k, kubeletMaySetLabel(k)])).toEqual(table);
  });

  it("renders the unit, kubeadm's drop-in and the node's extra args exactly", () => {
    const files = renderKubeletFiles({ host: "gpu-01", labels: { "omstack.io/rack": "A", "node-role.kubernetes.io/worker": "", "topology.kubernetes.io/zone": "z1" } });
    const header = "# Managed by omstack (host.kubelet-unit); edits here are overwritten on the next install.\n";
    expect([...files.keys()]).toEqual([KUBELET_UNIT_FILE, KUBEADM_DROPIN_FILE, KUBELET_DEFAULTS_FILE]);
    expect(files.get(KUBELET_DEFAULTS_FILE)).toBe(`${header}KUBELET_EXTRA_ARGS="--hostname-override=gpu-01 --node-labels=omstack.io/rack=A,topology.kubernetes.io/zone=z1"\n`);
    expect(files.get(KUBELET_UNIT_FILE)).toBe(
      header +
        "[Unit]\nDescription=kubelet: the Kubernetes node agent\nWants=network-online.target containerd.service\nAfter=network-online.target containerd.service\nStartLimitIntervalSec=0\n\n" +
        "[Service]\nExecStart=/usr/local/bin/kubelet\nRestart=always\nRestartSec=2\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    expect(files.get(KUBEADM_DROPIN_FILE)).toBe(
      header +
        '[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"\n' +
        'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\n' +
        "ExecStart=\nExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n",
    );
    expect(renderKubeletFiles({ host: "n1", labels: {} }, "/opt/omstack/bin/kubelet").get(KUBELET_DEFAULTS_FILE)).toBe(`${header}KUBELET_EXTRA_ARGS="--hostname-override=n1"\n`);
  });

  it.each([
    [{ host: "GPU_01", labels: {} }, /is not a Kubernetes node name/],
    [{ host: "gpu-01", labels: { "omstack.io/rack": "A 1" } }, /node label "omstack.io\/rack=A 1" is not a Kubernetes label/],
    [{ host: "gpu-01", labels: { "Bad_Prefix/x": "1" } }, /is not a Kubernetes label/],
    [{ host: "gpu-01", labels: { "omstack.io/x": "y".repeat(64) } }, /is not a Kubernetes label/],
  ])("rejects plan node %j", (node, message) => {
    expect(() => renderKubeletFiles(node)).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(message) }));
  });

  it("rejects a kubelet path that could break the unit", () => {
    expect(() => hostKubeletUnit({ kubeletPath: "/usr/bin/kubelet; rm -rf /" })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
    expect(() => hostKubeletUnit({ kubeletPath: "kubelet" })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
  });

  it("takes each node's files from the plan; inputs change with the node's labels", () => {
    const step = hostKubeletUnit();
    expect(step.targets(plan([{ host: "a" }, { host: "b", labels: { "omstack.io/gpu": "true" } }]))).toEqual(["a", "b"]);
    const a = step.inputs!("a", plan([{ host: "a" }])) as Record<string, string>;
    const b = step.inputs!("b", plan([{ host: "b", labels: { "omstack.io/gpu": "true" } }])) as Record<string, string>;
    expect(a[KUBELET_DEFAULTS_FILE]).toContain("--hostname-override=a\"");
    expect(b[KUBELET_DEFAULTS_FILE]).toContain("--node-labels=omstack.io/gpu=true");
    expect(step.inputs!("b", plan([{ host: "b" }]))).not.toEqual(b);
  });

  it("without systemd: writes the three files, notes that nothing was reloaded; verify fails after an edit", async () => {
    const hosts = new MemoryHosts(["n1"]);
    const step = hostKubeletUnit();
    step.targets(plan([{ host: "n1", labels: { "omstack.io/rack": "B" } }]));
    const h = await hosts.open("n1");
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: `${KUBELET_UNIT_FILE}: missing, ${KUBEADM_DROPIN_FILE}: missing, ${KUBELET_DEFAULTS_FILE}: missing` });
    const notes: string[] = [];
    await step.apply(soloWriter(h.writer(io(notes))));
    expect(notes).toEqual([expect.stringMatching(/^systemd is not PID 1 on this host .*daemon-reload not run/)]);
    expect(runs(hosts, "n1")).toEqual([]);
    expect(hosts.text("n1", KUBELET_DEFAULTS_FILE)).toMatch(/--node-labels=omstack\.io\/rack=B"\n$/);
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
    await expect(step.verify(soloReader(h.reader(io())))).resolves.toBeUndefined();
    hosts.put("n1", KUBEADM_DROPIN_FILE, "[Service]\n");
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: `${KUBEADM_DROPIN_FILE}: different content` });
    await expect(step.verify(soloReader(h.reader(io())))).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining(`${KUBEADM_DROPIN_FILE} (content)`) });
    hosts.writes.length = 0;
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.map((w) => `${w.op} ${w.target}`)).toEqual([`writeFile ${KUBEADM_DROPIN_FILE}`]);
  });

  it("under systemd: daemon-reload and enable once per unit change, retried after a failure", async () => {
    const hosts = new MemoryHosts(["n1"]);
    withSystemd(hosts, "n1");
    let fail = true;
    hosts.commandHandler = () => (fail ? { exitCode: 1, stderr: "Failed to connect to bus" } : undefined);
    const step = hostKubeletUnit();
    step.targets(plan([{ host: "n1" }]));
    const h = await hosts.open("n1");
    await expect(step.apply(soloWriter(h.writer(io())))).rejects.toMatchObject({ code: "E_COMMAND_FAILED" });
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: "systemd has not reloaded the kubelet unit since it changed" });
    await expect(step.verify(soloReader(h.reader(io())))).rejects.toThrow(/systemd must have reloaded the kubelet unit/);
    fail = false;
    hosts.writes.length = 0;
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.map((w) => `${w.op} ${w.target}`)).toEqual(["run systemctl daemon-reload && systemctl enable kubelet.service", `writeFile ${KUBELET_UNIT_STAMP}`]);
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
    await expect(step.verify(soloReader(h.reader(io())))).resolves.toBeUndefined();
    hosts.writes.length = 0;
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes).toEqual([]);
    // Only /etc/default/kubelet changed (read at kubelet start): rewritten, no daemon-reload.
    step.targets(plan([{ host: "n1", labels: { "omstack.io/rack": "C" } }]));
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.map((w) => `${w.op} ${w.target}`)).toEqual([`writeFile ${KUBELET_DEFAULTS_FILE}`]);
  });
});

describe("hostPreparationSteps", () => {
  it("runs containerd and the kubelet unit after the OS preparation, with the plan's containerd settings", () => {
    const steps = hostPreparationSteps({ containerd: { restrictOomScoreAdj: true } });
    expect(steps.map((s) => s.id)).toEqual(["host.swap-off", "host.kernel-modules", "host.sysctls", "host.containerd-config", "host.kubelet-unit"]);
    expect(JSON.stringify(steps[3]!.inputs!("a", plan([{ host: "a" }])))).toContain("restrict_oom_score_adj = true");
  });
});
