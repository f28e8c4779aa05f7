// Host-preparation steps on in-memory hosts: pure helpers, bad settings, and the branches a test host cannot show.
import { describe, expect, it } from "vitest";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import { testNode, testPlan } from "../../plan/testing.js";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import type { StepIo } from "../../executor/ports.js";
import { activeFstabSwapLines, activeSwaps, commentSwapLines, hostSwapOff, SWAP_COMMENT } from "./swap-off.js";
import { hostSysctls, procPath, renderSysctlFile, sameValue, SYSCTL_FILE, validateSysctls } from "./sysctls.js";
import { hostKernelModules, loadedModules, MODULES_FILE, validateModules } from "./kernel-modules.js";
import { hostPushFiles, validatePushFiles } from "./push-files.js";

const io = (notes: string[] = []): StepIo => ({ log: () => {}, note: (m) => notes.push(m) });
const PROC_SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

describe("host.swap-off", () => {
  it("finds and comments only active swap lines, leaving the rest byte for byte", () => {
    const fstab = "# <file system> <mount point> <type>\nUUID=1 / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n  UUID=2   none   swap   sw  0 0\n#/old none swap sw 0 0\n\n";
    expect(activeFstabSwapLines(fstab)).toEqual(["/swapfile none swap sw 0 0", "  UUID=2   none   swap   sw  0 0"]);
    const out = commentSwapLines(fstab);
    expect(out).toBe(fstab.replace("/swapfile", SWAP_COMMENT + "/swapfile").replace("  UUID=2", SWAP_COMMENT + "  UUID=2"));
    expect(activeFstabSwapLines(out)).toEqual([]);
    expect(commentSwapLines(out)).toBe(out);
  });

  it("reads active swaps from /proc/swaps", () => {
    expect(activeSwaps(PROC_SWAPS_HEADER)).toEqual([]);
    expect(activeSwaps(PROC_SWAPS_HEADER + "/dev/dm-1                               partition\t1003516\t\t0\t\t-2\n")).toEqual(["/dev/dm-1"]);
  });

  it("runs swapoff when swap is active and verify reports what is still on", async () => {
    const hosts = new MemoryHosts(["h"]);
    hosts.put("h", "/proc/swaps", PROC_SWAPS_HEADER + "/swap.img file 4194300 0 -2\n");
    hosts.put("h", "/etc/fstab", "/swap.img none swap sw 0 0\n", { mode: 0o600 });
    const step = hostSwapOff();
    const handle = await hosts.open("h");
    expect(await step.check(soloReader(handle.reader(io())))).toEqual({ pending: "swap in use: /swap.img; 1 swap line(s) active in /etc/fstab" });
    hosts.commandHandler = (_h, cmd, fs) => {
      if (cmd === "swapoff -a") fs.set("/proc/swaps", { content: Buffer.from(PROC_SWAPS_HEADER), mode: 0o444 });
      return undefined;
    };
    await step.apply(soloWriter(handle.writer(io())));
    expect(hosts.fs("h").get("/etc/fstab")?.mode).toBe(0o600);
    expect(await step.check(soloReader(handle.reader(io())))).toBe("done");
    hosts.put("h", "/proc/swaps", PROC_SWAPS_HEADER + "/dev/sda2 partition 1 0 -2\n");
    await expect(step.verify(soloReader(handle.reader(io())))).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining("/proc/swaps still lists /dev/sda2") });
  });
});

describe("host.sysctls", () => {
  it("renders a sorted file and maps keys to /proc/sys", () => {
    expect(renderSysctlFile({ "vm.max_map_count": "262144", "net.ipv4.ip_forward": "1" })).toBe(
      "# Managed by omstack (host.sysctls); edits here are overwritten on the next install.\nnet.ipv4.ip_forward = 1\nvm.max_map_count = 262144\n",
    );
    expect(procPath("net.ipv4.ip_local_port_range")).toBe("/proc/sys/net/ipv4/ip_local_port_range");
    expect(sameValue("32768\t60999\n", "32768 60999")).toBe(true);
    expect(sameValue("1\n", "0")).toBe(false);
  });

  it.each([
    [{ "../../etc/passwd": "1" }, /is not a kernel parameter name/],
    [{ "net.ipv4.ip_forward": "1\nvm.x = 2" }, /must be non-empty, on one line/],
    [{ "net.ipv4.ip_forward": "" }, /must be non-empty/],
    [{ "nodots": "1" }, /is not a kernel parameter name/],
  ])("rejects bad setting %j", (values, message) => {
    expect(() => validateSysctls(values)).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(message) }));
  });

  it("uses sysctl -p on our file when every key is writable, and per key plus notes otherwise", async () => {
    const hosts = new MemoryHosts(["rw", "mixed"]);
    for (const h of ["rw", "mixed"]) {
      hosts.put(h, "/proc/sys/net/ipv4/ip_forward", "0\n");
      hosts.put(h, "/proc/sys/vm/max_map_count", "65530\n", { writable: h === "rw" });
    }
    const step = hostSysctls({ values: { "net.ipv4.ip_forward": 1, "vm.max_map_count": 262144, "net.bridge.bridge-nf-call-iptables": 1 } });
    const rw = await hosts.open("rw");
    hosts.put("rw", "/proc/sys/net/bridge/bridge-nf-call-iptables", "0\n");
    await step.apply(soloWriter(rw.writer(io())));
    expect(hosts.writes.filter((w) => w.host === "rw" && w.op === "run").map((w) => w.target)).toEqual([`sysctl -p '${SYSCTL_FILE}'`]);

    const notes: string[] = [];
    const mixed = await hosts.open("mixed");
    await step.apply(soloWriter(mixed.writer(io(notes))));
    expect(hosts.writes.filter((w) => w.host === "mixed" && w.op === "run").map((w) => w.target)).toEqual(["sysctl -w 'net.ipv4.ip_forward=1'"]);
    expect(notes).toEqual([
      expect.stringMatching(/^net\.bridge\.bridge-nf-call-iptables does not exist on this kernel/),
      expect.stringMatching(/^vm\.max_map_count cannot be set live: \/proc\/sys\/vm\/max_map_count is read-only here/),
    ]);
    // The live net value did not change in memory (no real sysctl): verify says so, naming the key.
    await expect(step.verify(soloReader(mixed.reader(io())))).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining("net.ipv4.ip_forward=0 (want 1)") });
  });
});

describe("host.kernel-modules", () => {
  it("validates names and reads /proc/modules", () => {
    expect(() => validateModules(["overlay", "br_netfilter; reboot"])).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
    expect(validateModules(["overlay", "overlay"])).toEqual(["overlay"]);
    expect(loadedModules("overlay 151552 0 - Live 0x0000000000000000\nbr_netfilter 32768 0 - Live 0x0\n")).toEqual(new Set(["overlay", "br_netfilter"]));
  });

  it("modprobes what is missing on a kernel with modules, and verify fails while one is still missing", async () => {
    const hosts = new MemoryHosts(["h"]);
    hosts.put("h", "/proc/modules", "overlay 151552 0 - Live 0x0\n");
    const step = hostKernelModules();
    const h = await hosts.open("h");
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: `${MODULES_FILE} is missing or differs` });
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.filter((w) => w.op === "run").map((w) => w.target)).toEqual(["modprobe 'br_netfilter'"]);
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: "not loaded: br_netfilter" });
    await expect(step.verify(soloReader(h.reader(io())))).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining("br_netfilter must be loaded") });
    hosts.put("h", "/proc/modules", "overlay 1 0 - Live 0x0\nbr_netfilter 1 0 - Live 0x0\n");
    await expect(step.verify(soloReader(h.reader(io())))).resolves.toBeUndefined();
  });
});

describe("host.push-files", () => {
  const sum = "a".repeat(64);
  it.each([
    [{ source: "/x", dest: "relative/path", sha256: sum }, /absolute file path/],
    [{ source: "/x", dest: "/opt/../etc/shadow", sha256: sum }, /absolute file path/],
    [{ source: "/x", dest: "/opt/x", sha256: "abc" }, /64 lower-case hex/],
    [{ source: "/x", dest: "/opt/x", sha256: sum, mode: 0o10000 }, /not a permission mode/],
  ])("rejects %j", (file, message) => {
    expect(() => validatePushFiles([file])).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(message) }));
  });

  it("targets only hosts with files, and fixes a wrong mode with chmod instead of a new copy", async () => {
    const hosts = new MemoryHosts(["a", "b"]);
    const content = "payload\n";
    const { createHash } = await import("node:crypto");
    const sha = createHash("sha256").update(content).digest("hex");
    hosts.put("a", "/opt/p", content, { mode: 0o600 });
    const step = hostPushFiles({ files: [{ source: "/nonexistent", dest: "/opt/p", sha256: sha, mode: 0o644, hosts: ["a"] }] });
    const plan = testPlan([testNode("a", { roles: [] }), testNode("b", { roles: [] })]);
    expect(step.targets(plan)).toEqual(["a"]);
    const h = await hosts.open("a");
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: "/opt/p: different mode" });
    hosts.commandHandler = (_h, cmd, fs) => {
      if (cmd === "chmod 644 '/opt/p'") fs.get("/opt/p")!.mode = 0o644;
      return undefined;
    };
    await step.apply(soloWriter(h.writer(io())));
    expect(hosts.writes.map((w) => `${w.op} ${w.target}`)).toEqual(["run chmod 644 '/opt/p'"]);
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
  });
});
