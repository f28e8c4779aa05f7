// Integration: real network namespaces, real overlay roots, real sshd, and the real OpenSSH client.

import { execFile, execSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { lockPath } from "./lab-state.js";
import { startTestHosts, stopStale, withTestHosts, type TestLab } from "./lab.js";

interface Ran {
  code: number;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** Runs the real OpenSSH client; never throws. */
function ssh(args: string[], timeoutMs = 30_000): Promise<Ran> {
  const t0 = Date.now();
  return new Promise((done) => {
    execFile("ssh", args, { encoding: "buffer", timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      done({ code, stdout, stderr: stderr.toString("utf8"), ms: Date.now() - t0 });
    });
  });
}

function sh(cmd: string): string {
  return execSync(cmd, { encoding: "utf8" });
}

const tmp = mkdtempSync(join(tmpdir(), "omstack-hosts-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A throwaway profile made of random bytes: proves byte-exact output without inventing any hardware numbers. */
function makeProfile(name: string, files: string[]): { dir: string; content: Record<string, Buffer> } {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const content: Record<string, Buffer> = {};
  for (const f of files) {
    // printable, several lines, no trailing newline on some: the shim must not add or drop a byte
    const text = randomBytes(600).toString("base64").replace(/(.{70})/g, "$1\n") + (f.length % 2 === 0 ? "\n" : "");
    content[f] = Buffer.from(`${f} marker\n${text}`);
    writeFileSync(join(dir, f), content[f]);
  }
  writeFileSync(join(dir, "SOURCE.md"), "throwaway test profile\n");
  return { dir, content };
}

const full = makeProfile("full", [
  "uname.txt",
  "lspci.txt",
  "nvidia-smi-q-x.xml",
  "cpuinfo.txt",
  "meminfo.txt",
  "swaps.txt",
  "modules.txt",
  "nvidia-version.txt",
  "os-release",
  "lsblk.json",
]);
const sparse = makeProfile("sparse", ["cpuinfo.txt"]);

describe("a lab of test hosts", () => {
  let lab: TestLab;

  beforeAll(async () => {
    lab = await startTestHosts(
      [
        { name: "alpha", profile: full.dir },
        { name: "beta", profile: sparse.dir },
        { name: "gamma" },
        { name: "hang-1", profile: full.dir, fault: "hang" },
        { name: "garbage-1", profile: full.dir, fault: "garbage" },
        { name: "reject-1", fault: "reject-key" },
        { name: "down-1", fault: "unreachable" },
        { name: "slow-1", profile: full.dir, fault: "slow" },
        { name: "changed-1", fault: "changed-host-key" },
      ],
      { runDir: tmp },
    );
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("gives each host its own name over real ssh, checked against the lab's known_hosts", async () => {
    for (const name of ["alpha", "beta", "gamma"]) {
      const r = await ssh(lab.sshArgs(name, ["hostname"]));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.toString().trim()).toBe(name);
    }
    // the same with a hand-built OpenSSH command line from the documented fields
    const h = lab.host("gamma");
    const r = await ssh(["-F", "/dev/null", "-i", h.identityFile, "-o", `UserKnownHostsFile=${lab.knownHostsFile}`, "-o", "BatchMode=yes", `root@${h.address}`, "cat /etc/hostname"]);
    expect(r.stdout.toString()).toBe("gamma\n");
    expect(readFileSync(h.logFile, "utf8")).toMatch(/Accepted publickey for root from 198\.18\.\d+\.1/);
  });

  it("serves the host key it reports, in known_hosts and fingerprint form", async () => {
    const h = lab.host("alpha");
    const scan = sh(`ssh-keyscan -t ed25519 ${h.address} 2>/dev/null`).trim();
    expect(scan).toBe(`${h.address} ${h.hostKeyLine.split(" ").slice(0, 2).join(" ")}`);
    expect(sh(`ssh-keygen -lf ${h.rootDir}/etc/omstack-lab/ssh_host_ed25519_key.pub`)).toContain(h.hostKeyFingerprint);
    expect(lab.knownHostsText().split("\n")).toContain(scan);
    expect(readFileSync(lab.knownHostsFile, "utf8")).toBe(lab.knownHostsText());
    expect(statSync(h.identityFile).mode & 0o777).toBe(0o600);
  });

  it("records a verifiable sshd PID per reachable host", () => {
    for (const h of lab.hosts) {
      if (h.fault === "unreachable") {
        expect(h.pid).toBeNull();
        continue;
      }
      expect(readFileSync(`/proc/${h.pid}/cmdline`, "utf8")).toContain("sshd");
    }
  });

  it("keeps writes inside the host's upper dir, not on the machine", async () => {
    const marker = `omstack-written-${randomBytes(4).toString("hex")}`;
    const r = await ssh(lab.sshArgs("gamma", [`echo hello > /etc/${marker} && mkdir -p /opt/${marker} && echo x > /opt/${marker}/f && echo t > /tmp/${marker}`]));
    expect(r.code).toBe(0);
    const root = lab.host("gamma").rootDir;
    expect(readFileSync(join(root, "etc", marker), "utf8")).toBe("hello\n");
    expect(readFileSync(join(root, "opt", marker, "f"), "utf8")).toBe("x\n");
    expect(readFileSync(join(root, "tmp", marker), "utf8")).toBe("t\n");
    expect(existsSync(`/etc/${marker}`)).toBe(false);
    expect(existsSync(`/opt/${marker}`)).toBe(false);
    // other hosts do not see it either, and kernel-wide sysctls stay read-only
    expect((await ssh(lab.sshArgs("alpha", [`test -e /etc/${marker}`]))).code).toBe(1);
    const sysctl = await ssh(lab.sshArgs("gamma", ["echo 1 > /proc/sys/vm/overcommit_memory"]));
    expect(sysctl.stderr).toContain("Read-only file system");
  });

  it("prints each profile file byte for byte through the probe's commands", async () => {
    const cases: [string, string][] = [
      ["uname -srm", "uname.txt"],
      ["lspci -Dnn", "lspci.txt"],
      ["nvidia-smi -q -x", "nvidia-smi-q-x.xml"],
      ["cat /proc/cpuinfo", "cpuinfo.txt"],
      ["cat /proc/meminfo", "meminfo.txt"],
      ["cat /proc/swaps", "swaps.txt"],
      ["cat /proc/driver/nvidia/version", "nvidia-version.txt"],
      ["cat /etc/os-release || cat /usr/lib/os-release", "os-release"],
      ["lsblk -J -b -O 2>/dev/null || lsblk -J -b -o NAME", "lsblk.json"],
    ];
    for (const [cmd, file] of cases) {
      const r = await ssh(lab.sshArgs("alpha", [cmd]));
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
      expect(r.stdout.equals(full.content[file] ?? Buffer.alloc(0)), `${cmd} prints ${file}`).toBe(true);
    }
    // /proc/modules exists only on kernels with module support: shown there, reported as unshown elsewhere
    const modules = await ssh(lab.sshArgs("alpha", ["cat /proc/modules"]));
    if (existsSync("/proc/modules")) {
      expect(modules.stdout.equals(full.content["modules.txt"] ?? Buffer.alloc(0))).toBe(true);
      expect(lab.host("alpha").unshownProfileFiles).toEqual([]);
    } else {
      expect(modules.code).toBe(1);
      expect(lab.host("alpha").unshownProfileFiles).toEqual(["modules.txt"]);
    }
    // other arguments reach the real tool: the hostname comes from the host's UTS namespace
    expect((await ssh(lab.sshArgs("alpha", ["uname -n"]))).stdout.toString()).toBe("alpha\n");
    expect((await ssh(lab.sshArgs("beta", ["cat /proc/cpuinfo"]))).stdout.equals(sparse.content["cpuinfo.txt"] ?? Buffer.alloc(0))).toBe(true);
  });

  it("makes tools absent when the profile has no file for them", async () => {
    const r = await ssh(lab.sshArgs("beta", ["for t in lspci nvidia-smi ss ip lsblk ibstat; do command -v $t; done; ls /usr/bin/lspci /usr/sbin/ip 2>&1; lspci -Dnn; echo rc=$?"]));
    const out = r.stdout.toString();
    expect(out).not.toMatch(/^\//m); // command -v printed no path
    expect(out).toContain("cannot access '/usr/bin/lspci': No such file or directory");
    expect(out).toContain("cannot access '/usr/sbin/ip': No such file or directory");
    expect(out).toContain("rc=127");
    // the machine's real tools are still there, and a host without a profile keeps them
    expect(existsSync("/usr/bin/lspci")).toBe(true);
    expect((await ssh(lab.sshArgs("gamma", ["command -v lspci"]))).stdout.toString()).toBe("/usr/bin/lspci\n");
  });

  it("fault hang: the hang tool never answers, the rest of the host does", async () => {
    const r = await ssh(lab.sshArgs("hang-1", ["timeout 2 nvidia-smi -q -x; echo rc=$?; lspci -Dnn | head -c 20"]));
    expect(r.stdout.toString()).toBe(`rc=124\n${(full.content["lspci.txt"] ?? Buffer.alloc(0)).subarray(0, 20).toString()}`);
  });

  it("fault garbage: shims and /proc files print random bytes instead of the profile", async () => {
    for (const [cmd, file] of [["lspci -Dnn", "lspci.txt"], ["cat /proc/cpuinfo", "cpuinfo.txt"]] as const) {
      const r = await ssh(lab.sshArgs("garbage-1", [cmd]));
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBe(4096);
      expect(r.stdout.equals(full.content[file] ?? Buffer.alloc(0))).toBe(false);
    }
  });

  it("fault reject-key: the lab key is refused", async () => {
    const r = await ssh(lab.sshArgs("reject-1", ["hostname"]));
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("Permission denied (publickey)");
  });

  it("fault unreachable: nothing answers at the address", async () => {
    const r = await ssh(lab.sshArgs("down-1", ["hostname"]), 20_000);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/No route to host|timed out|Connection refused/);
  });

  it("fault slow: shims take 2 s but still print the profile", async () => {
    const r = await ssh(lab.sshArgs("slow-1", ["s=$(date +%s%N); lspci -Dnn > /tmp/out; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); cat /tmp/out"]));
    const [ms, ...rest] = r.stdout.toString().split("\n");
    expect(Number(ms)).toBeGreaterThanOrEqual(2000);
    expect(rest.join("\n")).toBe((full.content["lspci.txt"] ?? Buffer.alloc(0)).toString());
    const fast = await ssh(lab.sshArgs("alpha", ["s=$(date +%s%N); lspci -Dnn > /dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))"]));
    expect(Number(fast.stdout.toString())).toBeLessThan(2000);
  });

  it("fault changed-host-key: the recorded key differs from the served one and OpenSSH refuses", async () => {
    const h = lab.host("changed-1");
    expect(h.knownHostKeyLine).not.toBe(h.hostKeyLine);
    const r = await ssh(lab.sshArgs("changed-1", ["hostname"]));
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
    const current = join(tmp, "known_hosts.current");
    writeFileSync(current, `${h.address} ${h.hostKeyLine}\n`);
    const ok = await ssh(lab.sshArgs("changed-1", ["hostname"], { knownHostsFile: current }));
    expect(ok.stdout.toString()).toBe("changed-1\n");
  });

  it("rotateHostKey restarts sshd with a new key, keeping the host's files", async () => {
    const before = { ...lab.host("gamma") };
    await ssh(lab.sshArgs("gamma", ["echo kept > /root/rotate-marker"]));
    const after = await lab.rotateHostKey("gamma");
    expect(after.hostKeyLine).not.toBe(before.hostKeyLine);
    expect(after.hostKeyFingerprint).not.toBe(before.hostKeyFingerprint);
    expect(after.pid).not.toBe(before.pid);
    expect(existsSync(`/proc/${before.pid}`)).toBe(false);
    expect(after.knownHostKeyLine).toBe(before.knownHostKeyLine);
    const refused = await ssh(lab.sshArgs("gamma", ["hostname"]));
    expect(refused.stderr).toContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
    const current = join(tmp, "known_hosts.rotated");
    writeFileSync(current, `${after.address} ${after.hostKeyLine}\n`);
    const ok = await ssh(lab.sshArgs("gamma", ["hostname; cat /root/rotate-marker"], { knownHostsFile: current }));
    expect(ok.stdout.toString()).toBe("gamma\nkept\n");
  });

  it("writes an inventory of every host, 0600", async () => {
    const path = join(tmp, "omstack.yaml");
    await lab.writeInventory(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const doc = parse(readFileSync(path, "utf8")) as { hosts: Record<string, unknown>[] };
    expect(doc.hosts).toHaveLength(lab.hosts.length);
    expect(doc.hosts[0]).toEqual({ name: "alpha", address: lab.hosts[0]?.address, port: 22, user: "root", identityFile: lab.identityFile });
  });

  it("refuses to clean up a live lab's prefix", async () => {
    await expect(stopStale(lab.prefix)).rejects.toThrow(/belongs to a running lab/);
  });
});

describe("stopping", () => {
  it("stop() kills the sshds and removes the netns, links, bridge, folder and lock", async () => {
    let seen: { prefix: string; labDir: string; pids: number[] } | null = null;
    await withTestHosts(
      [{ name: "one" }, { name: "two" }],
      async (lab) => {
        seen = { prefix: lab.prefix, labDir: lab.labDir, pids: lab.hosts.map((h) => h.pid ?? -1) };
        expect(sh("ip netns list")).toContain(`${lab.prefix}-h0`);
        expect(sh("ip -o link show")).toContain(`${lab.prefix}br`);
      },
      { runDir: tmp },
    );
    expect(seen).not.toBeNull();
    const s = seen as unknown as { prefix: string; labDir: string; pids: number[] };
    for (const pid of s.pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(sh("ip netns list")).not.toContain(`${s.prefix}-`);
    expect(sh("ip -o link show")).not.toMatch(new RegExp(`\\b${s.prefix}(br|v\\d)`));
    expect(existsSync(s.labDir)).toBe(false);
    expect(existsSync(lockPath(s.prefix))).toBe(false);
    const mounts = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).some((p) => {
      try {
        return readFileSync(`/proc/${p}/mountinfo`, "utf8").includes(s.labDir);
      } catch {
        return false;
      }
    });
    expect(mounts).toBe(false);
  });

  it("withTestHosts cleans up when the test body throws", async () => {
    let prefix = "";
    await expect(
      withTestHosts([{ name: "boom" }], async (lab) => {
        prefix = lab.prefix;
        throw new Error("test body failed");
      }, { runDir: tmp }),
    ).rejects.toThrow("test body failed");
    expect(sh("ip netns list")).not.toContain(`${prefix}-`);
  });

  it("a new lab on the same subnet removes what a killed run left behind", async () => {
    const script = join(tmp, "crash.mts");
    const labUrl = pathToFileURL(resolve(import.meta.dirname, "lab.ts")).href;
    writeFileSync(
      script,
      `import { startTestHosts } from ${JSON.stringify(labUrl)};
const lab = await startTestHosts([{ name: "victim" }], { runDir: ${JSON.stringify(tmp)} });
console.log(JSON.stringify({ node: process.pid, prefix: lab.prefix, subnet: lab.subnetIndex, sshd: lab.hosts[0].pid, labDir: lab.labDir }));
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(resolve(import.meta.dirname, "../../node_modules/.bin/tsx"), [script], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((ok, fail) => {
      let buf = "";
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        if (buf.includes("\n")) ok(buf.split("\n")[0] ?? "");
      });
      child.once("exit", (code) => fail(new Error(`crash child exited early (${String(code)})`)));
    });
    const left = JSON.parse(line) as { node: number; prefix: string; subnet: number; sshd: number; labDir: string };
    process.kill(left.node, "SIGKILL"); // no exit hook runs: the lab is left behind
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(`/proc/${left.sshd}`)).toBe(true);
    expect(sh("ip netns list")).toContain(`${left.prefix}-h0`);

    await withTestHosts([{ name: "heir" }], async (lab) => {
      expect(lab.prefix).toBe(left.prefix);
      expect(existsSync(`/proc/${left.sshd}`)).toBe(false);
      expect(existsSync(left.labDir)).toBe(false);
      expect((await ssh(lab.sshArgs("heir", ["hostname"]))).stdout.toString()).toBe("heir\n");
    }, { runDir: tmp, subnetIndex: left.subnet });
  });
});

describe("bad input", () => {
  it("rejects bad specs with a message naming the problem", async () => {
    await expect(startTestHosts([], { runDir: tmp })).rejects.toThrow(/at least one host/);
    await expect(startTestHosts([{ name: "a" }, { name: "a" }], { runDir: tmp })).rejects.toThrow(/appears twice/);
    await expect(startTestHosts([{ name: "bad name!" }], { runDir: tmp })).rejects.toThrow(/not a valid hostname/);
    await expect(startTestHosts([{ name: "a", profile: "no-such-profile" }], { runDir: tmp })).rejects.toThrow(/profile folder .* does not exist/);
    await expect(startTestHosts([{ name: "a", fault: "melt" as never }], { runDir: tmp })).rejects.toThrow(/fault "melt" is unknown/);
    await expect(startTestHosts([{ name: "a", hangTool: "../sh" }], { runDir: tmp })).rejects.toThrow(/not a plain command name/);
    await expect(startTestHosts([{ name: "a" }], { runDir: join(tmp, "missing") })).rejects.toThrow(/does not exist/);
    await expect(startTestHosts([{ name: "a" }], { runDir: tmp, subnetIndex: 300 })).rejects.toThrow(/0\.\.255/);
  });

  it("refuses a subnet a running lab holds", async () => {
    await withTestHosts([{ name: "holder" }], async (lab) => {
      await expect(startTestHosts([{ name: "b" }], { runDir: tmp, subnetIndex: lab.subnetIndex })).rejects.toThrow(/in use by a running lab/);
    }, { runDir: tmp });
  });
});
