// `omstack preflight` and `omstack plan` end to end without SSH: the built CLI (npx tsc -p tsconfig.build.json first)
// against the real hardware profiles (--from-capture), facts files (--facts), an inventory's overrides, a real bundle
// file (--bundle), --ignore, --diff, and bad input.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostFacts } from "../../installer/src/probe/facts.js";
import type { Outcome } from "../../installer/src/preflight/preflight.js";
import type { Plan } from "../../installer/src/plan/types.js";
import { minDriverForCuda } from "../../installer/src/preflight/matrices/index.js";
import { DEFAULT_BUNDLE_VERSIONS } from "../../installer/src/plan/defaults.js";
import { gpu, host, port } from "../../installer/src/preflight/testing/hosts.js";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const cli = join(repo, "bin/omstack.js");
const PROFILES = ["h100-ib", "a100-roce", "cpu-hdd"];

async function omstack(args: string[], cwd = repo): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cli, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

interface PreflightJson {
  source: string;
  bundle: { cudaVersion: string; kubernetesVersion: string; containerdVersion: string; version: string | null; extractedBytes: number | null; source: string };
  summary: Record<"pass" | "warn" | "fail" | "bypassed", number>;
  bypassedChecks: string[];
  outcomes: Outcome[];
}

const outcome = (r: PreflightJson, id: string, h: string) => r.outcomes.find((o) => o.checkId === id && o.host === h);
const failingIds = (outs: Outcome[]) => [...new Set(outs.filter((o) => o.status === "fail").map((o) => o.checkId))].sort();
const ignoreArgs = (ids: string[]) => ids.flatMap((id) => ["--ignore", id]);

describe("omstack preflight and plan (no SSH)", () => {
  let work: string;
  let captures: string;
  let failing: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "omstack-pp-"));
    // A capture directory of three hosts (DIR/HOST/…), copied from the real profiles.
    captures = join(work, "captures");
    for (const p of PROFILES) await cp(join(repo, "tests/fixtures/hosts", p), join(captures, p), { recursive: true });
    const r = await omstack(["preflight", "--from-capture", captures, "-o", "json"]);
    failing = failingIds((JSON.parse(r.stdout) as PreflightJson).outcomes);
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("preflight reports every check on every host as JSON, exits 1, and catches the too-old driver with its fix", async () => {
    const r = await omstack(["preflight", "--from-capture", captures, "-o", "json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as PreflightJson;
    expect(j.bundle).toMatchObject({ ...DEFAULT_BUNDLE_VERSIONS, version: null });
    expect(new Set(j.outcomes.map((o) => o.host))).toEqual(new Set([...PROFILES, "bundle"]));
    for (const o of j.outcomes) {
      expect(Object.keys(o).sort()).toEqual(["area", "checkId", "found", "host", "remedy", "required", "severity", "status", "title"]);
      expect(["pass", "warn", "fail"]).toContain(o.status);
      if (o.status !== "pass") expect(o.remedy.length).toBeGreaterThan(0);
    }
    for (const s of ["pass", "warn", "fail", "bypassed"] as const) expect(j.summary[s]).toBe(j.outcomes.filter((o) => o.status === s).length);
    // a100-roce's real nvidia-smi reports driver 510.47.03; CUDA 12.8 needs the driver NVIDIA lists for it
    const need = minDriverForCuda(DEFAULT_BUNDLE_VERSIONS.cudaVersion)!.minLinuxDriver;
    const drv = outcome(j, "gpu.driver-cuda", "a100-roce")!;
    expect(drv).toMatchObject({ status: "fail", found: expect.stringContaining("510.47.03") });
    expect(drv.required).toContain(`≥ ${need}`);
    expect(drv.remedy).toContain(`install NVIDIA driver ≥ ${need}`);
    expect(outcome(j, "gpu.driver-cuda", "h100-ib")?.status).toBe("pass");
    // one InfiniBand node and one RoCE node: an even split is caught as two fabrics (warn), not an odd one out (fail)
    expect(outcome(j, "rdma.link-layer", "h100-ib")?.status).toBe("pass");
    expect(outcome(j, "rdma.mixed-fabrics", "h100-ib")?.status).toBe("warn");
    expect(outcome(j, "rdma.mixed-fabrics", "a100-roce")?.status).toBe("warn");
    // the planner's control plane (a CPU node) is checked against control-plane ports and minimums
    expect(outcome(j, "memory.total", "cpu-hdd")?.required).toContain("control-plane");
    expect(j.bypassedChecks).toEqual([]);
  });

  it("preflight's human output is a checklist per host: failures first, each with required/found/fix, then passes", async () => {
    const r = await omstack(["preflight", "--from-capture", captures]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const block = r.stdout.split("\n\n").find((b) => b.startsWith("a100-roce"))!;
    expect(block).toMatch(/^a100-roce {2}FAILED/);
    const lines = block.split("\n");
    const firstOk = lines.findIndex((l) => l.includes("[ok]"));
    const lastFail = lines.map((l) => l.includes("[FAIL]")).lastIndexOf(true);
    const firstWarn = lines.findIndex((l) => l.includes("[WARN]"));
    expect(lastFail).toBeGreaterThan(0);
    expect(lastFail).toBeLessThan(firstWarn);
    expect(firstWarn).toBeLessThan(firstOk);
    const drv = lines.findIndex((l) => l.includes("(gpu.driver-cuda)"));
    expect(lines[drv + 1]).toMatch(/^\s+required: driver ≥/);
    expect(lines[drv + 2]).toMatch(/^\s+found: +driver 510\.47\.03/);
    expect(lines[drv + 3]).toMatch(/^\s+fix: +install NVIDIA driver/);
    expect(r.stdout).toMatch(/^Summary: \d+ failed, \d+ warnings, \d+ passed/m);
    expect(r.stdout).toMatch(/failed on 3 hosts: .*a100-roce: [^;]*gpu\.driver-cuda/);
  });

  it("--ignore turns a failure into a recorded bypass, never a pass; exit 0 once every failure is bypassed", async () => {
    const one = await omstack(["preflight", "--from-capture", captures, "-o", "json", "--ignore", "gpu.driver-cuda"]);
    expect(one.code).toBe(1);
    const j = JSON.parse(one.stdout) as PreflightJson;
    expect(outcome(j, "gpu.driver-cuda", "a100-roce")).toMatchObject({ status: "bypassed", severity: "fail" });
    expect(outcome(j, "gpu.driver-cuda", "h100-ib")?.status).toBe("pass");
    expect(j.bypassedChecks).toEqual(["gpu.driver-cuda"]);

    const all = await omstack(["preflight", "--from-capture", captures, ...ignoreArgs(failing)]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("[BYPASSED] gpu: NVIDIA driver new enough for the bundle's CUDA (gpu.driver-cuda) — would fail");
    const roce = all.stdout.split("\n\n").find((b) => b.startsWith("a100-roce"))!;
    expect(roce.split("\n").filter((l) => l.includes("[ok]")).join("\n")).not.toContain("NVIDIA driver new enough");
    expect(all.stdout).toMatch(/no failures, but \d+ bypassed/);
  });

  it("--bundle-cuda and a real bundle file's bundle.json change what the driver is checked against", async () => {
    const flag = await omstack(["preflight", "--from-capture", captures, "-o", "json", "--bundle-cuda", "11.6"]);
    expect(outcome(JSON.parse(flag.stdout) as PreflightJson, "gpu.driver-cuda", "a100-roce")?.status).toBe("pass");

    const dir = join(work, "bundle");
    await mkdir(dir);
    await writeFile(
      join(dir, "recipe.yaml"),
      ["name: omstack", "version: 2026.1-test", "arch: amd64", 'buildTime: "2025-01-01T00:00:00Z"', "components:", '  cuda: "11.6"', "  kubernetes: 1.31.4", "  containerd: 1.7.20", "files:", "  - path: bin/hello", "    content: hi", ""].join("\n"),
    );
    expect((await omstack(["bundle", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    const built = await omstack(["bundle", "build", "--recipe", join(dir, "recipe.yaml"), "--key", join(dir, "key"), "--out", join(dir, "b.tar")]);
    expect(built.code, built.stderr).toBe(0);
    const r = await omstack(["preflight", "--from-capture", captures, "-o", "json", "--bundle", join(dir, "b.tar")]);
    const j = JSON.parse(r.stdout) as PreflightJson;
    expect(j.bundle).toMatchObject({ version: "2026.1-test", cudaVersion: "11.6", kubernetesVersion: "1.31.4", containerdVersion: "1.7.20", extractedBytes: 2 });
    expect(outcome(j, "gpu.driver-cuda", "a100-roce")?.status).toBe("pass");
    expect(outcome(j, "bundle.containerd-kubernetes", "bundle")?.status).toBe("pass");
    // an explicit flag still wins over the bundle file
    const over = await omstack(["preflight", "--from-capture", captures, "-o", "json", "--bundle", join(dir, "b.tar"), "--bundle-cuda", "12.8"]);
    expect(outcome(JSON.parse(over.stdout) as PreflightJson, "gpu.driver-cuda", "a100-roce")?.status).toBe("fail");
    const plan = await omstack(["plan", "--from-capture", captures, "-o", "json", "--bundle", join(dir, "b.tar"), ...ignoreArgs(failing)]);
    expect((JSON.parse(plan.stdout) as Plan).bundle).toEqual({ version: "2026.1-test", cudaVersion: "11.6", kubernetesVersion: "1.31.4", containerdVersion: "1.7.20" });
  });

  it("plan refuses while checks fail: exit 1, every failing check listed with its host and fix, nothing on stdout", async () => {
    const r = await omstack(["plan", "--from-capture", captures, "-o", "json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no plan was made");
    expect(r.stderr).toContain("[E_PREFLIGHT_FAILED]");
    for (const id of failing) expect(r.stderr).toContain(`--ignore ${id}`);
    expect(r.stderr).toMatch(/a100-roce: gpu\.driver-cuda .*required driver ≥ .*found driver 510\.47\.03/);
    expect(r.stderr).toMatch(/fix: install NVIDIA driver/);
  });

  it("plan with the failures bypassed prints the Plan JSON: roles, labels, taints, disks, RDMA interface, services, bypasses", async () => {
    const r = await omstack(["plan", "--from-capture", captures, "-o", "json", ...ignoreArgs(failing)]);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as Plan;
    expect(p.formatVersion).toBe(1);
    expect(p.bypassedChecks).toEqual(failing);
    expect(p.nodes.map((n) => n.host)).toEqual([...PROFILES].sort());
    for (const n of p.nodes) {
      expect(n).toEqual(
        expect.objectContaining({ host: expect.any(String), roles: expect.any(Array), labels: expect.any(Object), taints: expect.any(Array), disks: expect.any(Array), rdmaInterface: null }),
      );
      for (const d of n.disks) {
        expect(d).toEqual(expect.objectContaining({ name: expect.any(String), wipe: false }));
        expect(d.use === null || typeof d.use === "string").toBe(true);
      }
    }
    const node = (h: string) => p.nodes.find((n) => n.host === h)!;
    expect(node("cpu-hdd").roles).toContain("control-plane"); // a CPU node, not a GPU node
    expect(node("h100-ib").roles).toEqual(["worker", "gpu"]);
    expect(node("h100-ib").labels).toMatchObject({ "omstack.io/gpu.vendor": "nvidia", "omstack.io/rdma.link-layer": "InfiniBand" });
    expect(node("a100-roce").labels).toMatchObject({ "omstack.io/gpu.mig": "enabled", "omstack.io/rdma.link-layer": "Ethernet" });
    expect(node("h100-ib").taints).toEqual(["nvidia.com/gpu=present:NoSchedule"]);
    // the dev VM's root disk (mounted at /) is in use and never chosen
    expect(node("cpu-hdd").disks.find((d) => d.name === "vda")).toMatchObject({ use: null, wipe: false });
    expect(p.services.map((s) => s.name).sort()).toEqual(["ai", "batch", "bigdata", "intranet-proxy", "portal", "predict"]);
    for (const s of p.services) {
      expect(s).toEqual({ name: expect.any(String), enabled: expect.any(Boolean), reason: expect.any(String), values: expect.any(Object) });
      if (!s.enabled) expect(s.reason).toMatch(/^disabled: /);
    }
  });

  it("--facts from `omstack probe --output json` gives the same plan as the captures", async () => {
    const probed = await omstack(["probe", "--from-capture", captures, "-o", "json"]);
    expect(probed.code).toBe(0);
    const factsFile = join(work, "facts.json");
    await writeFile(factsFile, probed.stdout);
    const a = await omstack(["plan", "--facts", factsFile, "-o", "json", ...ignoreArgs(failing)]);
    const b = await omstack(["plan", "--from-capture", captures, "-o", "json", ...ignoreArgs(failing)]);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
    // host names on the command line pick hosts out of the facts file
    const one = await omstack(["plan", "--facts", factsFile, "cpu-hdd", "-o", "json", ...ignoreArgs(failing)]);
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as Plan).nodes.map((n) => n.host)).toEqual(["cpu-hdd"]);
  });

  it("an inventory's roles, labels and wipe: apply to saved facts; the system disk is never erased; --diff shows the change", async () => {
    const saved = join(work, "before.json");
    const before = await omstack(["plan", "--from-capture", captures, "--save", saved, ...ignoreArgs(failing)]);
    expect(before.code, before.stderr).toBe(0);
    expect((await stat(saved)).mode & 0o777).toBe(0o600);
    expect(before.stdout).toContain("Disks that will be ERASED\n  (none");

    const inv = join(work, "omstack.yaml");
    await writeFile(
      inv,
      [
        "hosts:",
        "  - {name: cpu-hdd, address: 198.18.0.10, roles: [control-plane, worker], labels: {rack: r1}, wipe: [vda], identityFile: /nonexistent/key}",
        "  - {name: h100-ib, address: 198.18.0.11}",
        "  - {name: a100-roce, address: 198.18.0.12}",
        "",
      ].join("\n"),
    );
    const human = await omstack(["plan", "-i", inv, "--from-capture", captures, ...ignoreArgs(failing)]);
    expect(human.code, human.stderr).toBe(0);
    // vda carries the running system (/): even `wipe:` cannot erase it.
    expect(human.stdout).toContain("holds the running system (/); its wipe: entry is ignored");
    expect(human.stdout).toContain("Disks that will be ERASED\n  (none");
    expect(human.stdout).toContain("omstack.io/rack=r1");

    const diff = await omstack(["plan", "-i", inv, "--from-capture", captures, "--diff", saved, ...ignoreArgs(failing)]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain(`since ${saved}:`);
    expect(diff.stdout).not.toContain("adds a disk to ERASE");
    expect(diff.stdout).toContain('nodes.cpu-hdd.labels.omstack.io/rack: (none) → "r1"');
    const dj = await omstack(["plan", "-i", inv, "--from-capture", captures, "--diff", saved, "-o", "json", ...ignoreArgs(failing)]);
    const { changes, plan } = JSON.parse(dj.stdout) as { changes: { path: string; before: unknown; after: unknown }[]; plan: Plan };
    expect(changes.some((c) => c.path.endsWith(".wipe"))).toBe(false);
    expect(plan.nodes.find((n) => n.host === "cpu-hdd")!.disks.find((d) => d.name === "vda")).toMatchObject({ wipe: false, use: null });
    const same = await omstack(["plan", "--from-capture", captures, "--diff", saved, ...ignoreArgs(failing)]);
    expect(same.stdout).toContain(`No changes since ${saved}.`);
  });

  it("a healthy cluster from a facts file: 5 hosts → 3 control planes, RDMA plane on IPoIB, services enabled with values", async () => {
    const GiB = 2 ** 30;
    const nvme = (name: string) => ({ name, sizeBytes: 3840 * 10 ** 9, rotational: false, transport: "nvme", type: "disk", model: null, fstype: null, mountpoints: [], children: [] });
    const nic = (name: string, rdmaDevice: string | null, addr: string) => ({ name, mac: null, addresses: [addr], state: "UP", mtu: rdmaDevice ? 2044 : 1500, speedMbps: 100000, rdmaDevice });
    const gpuNode = (n: number) =>
      host(`gpu-0${n}`, { gpus: [gpu(0), gpu(1)], gpuDriver: { version: "570.124.06", cudaVersion: "12.8" }, rdma: [port("mlx5_0", "InfiniBand")], disks: [nvme("nvme0n1"), nvme("nvme1n1")], nics: [nic("eth0", null, `10.0.0.${n}/24`), nic("ibp1s0", "mlx5_0", `10.1.0.${n}/24`)] });
    const cpuNode = (n: number) => host(`cpu-0${n}`, { cpu: { threads: 32, cores: 16 }, memory: { totalBytes: 128 * GiB }, nics: [nic("eth0", null, `10.0.0.1${n}/24`)] });
    const facts: HostFacts[] = [gpuNode(1), gpuNode(2), cpuNode(1), cpuNode(2), cpuNode(3)];
    const file = join(work, "healthy.json");
    await writeFile(file, JSON.stringify({ hosts: facts }));
    const pre = await omstack(["preflight", "--facts", file, "-o", "json"]);
    expect(pre.code, pre.stdout).toBe(0);
    expect((JSON.parse(pre.stdout) as PreflightJson).summary.fail).toBe(0);

    const r = await omstack(["plan", "--facts", file, "-o", "json", "--virtual-ip", "10.0.0.250"]);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as Plan;
    const node = (h: string) => p.nodes.find((n) => n.host === h)!;
    expect(p.nodes.filter((n) => n.roles.includes("control-plane")).map((n) => n.host).sort()).toEqual(["cpu-01", "cpu-02", "cpu-03"]);
    expect(node("gpu-01").rdmaInterface).toBe("ibp1s0");
    expect(node("gpu-01").disks.map((d) => d.use).sort()).toEqual(["omstack-cache", "omstack-shuffle"]);
    const svc = Object.fromEntries(p.services.map((s) => [s.name, s]));
    expect(svc.bigdata).toMatchObject({ enabled: true, values: { rdmaShuffle: { enabled: true, nodes: [{ host: "gpu-01", interface: "ibp1s0" }, { host: "gpu-02", interface: "ibp1s0" }] } } });
    expect(svc.ai).toMatchObject({ enabled: true, values: { gpuSharing: { enabled: true, nodes: ["gpu-01", "gpu-02"] } } });
    expect(svc["intranet-proxy"]).toMatchObject({ enabled: true, values: { virtualIP: "10.0.0.250", replicas: 2 } });

    const human = await omstack(["plan", "--facts", file]);
    expect(human.stdout).toMatch(/RDMA network plane \(shuffle and cache traffic\)\n {2}gpu-01 +ibp1s0 +RDMA traffic on ibp1s0 \(IPoIB/);
    expect(human.stdout).toMatch(/\[on\] {2}bigdata/);
  });

  it("bad input exits 2 with a clear error and fix, never a crash", async () => {
    const cases: { args: string[]; code: string; text: RegExp }[] = [
      { args: ["preflight", "--facts", join(work, "missing.json")], code: "E_CONFIG_READ", text: /cannot read facts from .*missing\.json/ },
      { args: ["plan", "--facts", await file("malformed.json", '{"hosts": [')], code: "E_CONFIG_READ", text: /JSON/ },
      { args: ["plan", "--facts", await file("notfacts.json", '{"nodes": []}')], code: "E_CONFIG_SCHEMA", text: /is not a facts file/ },
      { args: ["preflight", "--from-capture", captures, "--ignore", "swap.of"], code: "E_PREFLIGHT_IGNORE", text: /did you mean 'swap\.off'/ },
      { args: ["plan", "--from-capture", captures, "--diff", join(work, "nope.json")], code: "E_PLAN_FILE", text: /no such file/ },
      { args: ["plan", "--from-capture", captures, "--diff", await file("notplan.json", '{"formatVersion": 7}')], code: "E_PLAN_FILE", text: /not an omstack plan/ },
      { args: ["preflight", "--from-capture", captures, "--bundle-cuda", "twelve"], code: "E_USAGE", text: /--bundle-cuda must be a version/ },
      { args: ["preflight", "--from-capture", captures, "--facts", "x.json"], code: "E_USAGE", text: /pass one/ },
      { args: ["plan", "--from-capture", captures, "--virtual-ip", "10.0.0"], code: "E_USAGE", text: /--virtual-ip/ },
      { args: ["preflight", "--from-capture", captures, "no-such-host"], code: "E_HOST_UNKNOWN", text: /no-such-host/ },
      { args: ["preflight", "--from-capture", join(work, "nodir")], code: "E_CAPTURE_DIR", text: /no such directory/ },
      { args: ["preflight", "--from-capture", captures, "--bundle", join(work, "none.tar")], code: "E_BUNDLE_READ", text: /cannot read/ },
      { args: ["plan", "-i", await file("inv.yaml", "hosts:\n  - {name: ghost-01, address: 198.18.0.99}\n"), "--from-capture", captures], code: "E_FACTS_HOST_MISSING", text: /ghost-01/ },
    ];
    for (const c of cases) {
      const r = await omstack(c.args);
      expect(r.code, `${c.args.join(" ")}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`[${c.code}]`);
      expect(r.stderr).toMatch(c.text);
      expect(r.stderr).toContain("fix:");
      expect(r.stderr).not.toContain("internal error");
      expect(r.stdout).toBe("");
    }
    const badChoice = await omstack(["plan", "--from-capture", captures, "--control-planes", "2"]);
    expect(badChoice.code).toBe(2);
    expect(badChoice.stderr).toContain("Allowed choices are 1, 3");
  });

  async function file(name: string, text: string): Promise<string> {
    const p = join(work, name);
    await writeFile(p, text);
    return p;
  }

  it("--help lists the shared fact-source options on probe, preflight and plan alike", async () => {
    const helps = await Promise.all(["probe", "preflight", "plan"].map((c) => omstack([c, "--help"])));
    for (const h of helps) for (const flag of ["--inventory", "--known-hosts", "--accept-new-host-keys", "--from-capture", "--concurrency", "--connect-timeout", "--password-stdin"]) expect(h.stdout).toContain(flag);
    expect(helps[0]!.stdout).not.toContain("--facts");
    for (const h of helps.slice(1)) for (const flag of ["--facts", "--ignore", "--bundle-cuda", "--bundle "]) expect(h.stdout).toContain(flag);
    expect(JSON.parse(await readFile(join(repo, "package.json"), "utf8")).scripts["bench:plan"]).toBe("tsx tests/bench/plan-bench.ts");
  });
});
