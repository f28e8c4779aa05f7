import { describe, expect, it } from "vitest";
import { CAPTURES } from "../../installer/src/probe/captures.js";
import { renderBootScript } from "./host-files.js";
import { KNOWN_PROFILE_FILES, PROC_BINDS, SHIM_RULES, planProfile, shQuote, type PlanInput } from "./profile-plan.js";

const machine: Record<string, string[]> = {
  lspci: ["/usr/bin/lspci"],
  ip: ["/usr/sbin/ip"],
  ss: ["/usr/bin/ss"],
  uname: ["/usr/bin/uname"],
  df: ["/usr/bin/df"],
  lsblk: ["/usr/bin/lsblk"],
  docker: ["/usr/local/bin/docker"],
  nvcc: ["/usr/local/sbin/nvcc"],
};

function input(over: Partial<PlanInput>): PlanInput {
  return {
    profileFiles: [],
    fault: null,
    hangTool: "nvidia-smi",
    keepTools: [],
    hideCommands: [],
    locate: (t) => machine[t] ?? [],
    ...over,
  };
}

describe("shim rules follow the probe's command set", () => {
  it("has a rule for every capture that runs a tool, with the probe's exact arguments", () => {
    for (const c of CAPTURES) {
      const rules = SHIM_RULES.filter((r) => r.capture === c.name);
      if (c.tool === null && !c.command.includes("nvcc")) continue;
      expect(rules, c.name).toHaveLength(1);
      for (const argv of rules[0]?.argv ?? []) {
        expect(c.command, `${c.name}: ${argv}`).toContain(argv === "" ? rules[0]?.tool : `${rules[0]?.tool} ${argv}`);
      }
    }
  });

  it("binds every /proc capture the probe reads with cat", () => {
    for (const [capture, target] of Object.entries(PROC_BINDS)) {
      expect(CAPTURES.find((c) => c.name === capture)?.command).toBe(`cat ${target}`);
    }
  });
});

describe("planProfile", () => {
  it("shims the tools whose files the profile has and hides the other tool captures", () => {
    const plan = planProfile(input({ profileFiles: ["lspci.txt", "cpuinfo.txt", "SOURCE.md"] }));
    expect(plan.files).toEqual(["lspci.txt", "cpuinfo.txt"]);
    expect(plan.shims.map((s) => s.tool)).toEqual(["lspci"]);
    expect(plan.shims[0]?.script).toContain("'-Dnn') exec cat '/usr/share/omstack-lab/profile/lspci.txt'");
    expect(plan.shims[0]?.script).toContain(`exec '/usr/bin/lspci' "$@"`);
    // ip and ss exist on the machine but the profile has no file: gone; uname and df are kept; the machine's container runtimes are hidden
    expect(plan.hidden).toEqual(["/usr/bin/lsblk", "/usr/bin/ss", "/usr/local/bin/docker", "/usr/local/sbin/nvcc", "/usr/sbin/ip"]);
    expect(plan.procBinds).toEqual([{ capture: "cpuinfo.txt", target: "/proc/cpuinfo" }]);
    expect(plan.osRelease).toBeNull();
  });

  it("keeps a tool on request and hides extra commands", () => {
    const plan = planProfile(input({ profileFiles: [], keepTools: ["ip", "docker"], hideCommands: ["lspci"] }));
    expect(plan.hidden).toContain("/usr/bin/lspci");
    expect(plan.hidden).not.toContain("/usr/sbin/ip");
    expect(plan.hidden).not.toContain("/usr/local/bin/docker");
    const noProfile = planProfile(input({ profileFiles: null, hideCommands: ["docker"] }));
    expect(noProfile.hidden).toEqual(["/usr/local/bin/docker"]);
  });

  it("changes nothing for a host without a profile", () => {
    const plan = planProfile(input({ profileFiles: null }));
    expect(plan).toEqual({ files: [], shims: [], hidden: [], procBinds: [], nvidiaVersion: null, osRelease: null });
  });

  it("makes the hang tool sleep even when the profile lacks it", () => {
    const plan = planProfile(input({ profileFiles: null, fault: "hang" }));
    expect(plan.shims.map((s) => s.tool)).toEqual(["nvidia-smi"]);
    expect(plan.shims[0]?.script).toMatch(/^exec sleep \d+$/m);
  });

  it("slows every shim, and without a profile wraps the machine's tools", () => {
    const plan = planProfile(input({ profileFiles: null, fault: "slow" }));
    expect(plan.shims.map((s) => s.tool).sort()).toEqual(["df", "ip", "lsblk", "lspci", "ss", "uname"]);
    for (const s of plan.shims) expect(s.script).toContain("sleep 2\n");
  });

  it("matches nvidia-smi --query-gpu with any field list", () => {
    const plan = planProfile(input({ profileFiles: ["nvidia-smi-query.csv", "nvidia-smi-q-x.xml"] }));
    const script = plan.shims.find((s) => s.tool === "nvidia-smi")?.script ?? "";
    expect(script).toContain("'--query-gpu='*) exec cat");
    expect(script).toContain("'-q -x') exec cat");
  });

  it("knows every file name it plans for", () => {
    expect(KNOWN_PROFILE_FILES).toContain("os-release");
    expect(KNOWN_PROFILE_FILES).toContain("nvidia-version.txt");
  });
});

describe("shell quoting", () => {
  it("survives quotes in paths", () => {
    expect(shQuote("a'b")).toBe(`'a'\\''b'`);
    const script = renderBootScript({
      paths: { upper: "/x/u'p", work: "/x/w", merged: "/x/m", run: "/x/r", devSkeleton: "/x/d", pidFile: "/x/p", profileInUpper: "/x/u'p/prof" },
      hostname: "h1",
      cidr: "198.18.1.10/24",
      sshdConfigInHost: "/etc/omstack-lab/c",
      hidden: ["/usr/bin/lspci"],
      procBinds: [],
      nvidiaVersion: null,
    });
    expect(script).toContain(`mknod -m 000 '/x/u'\\''p/usr/bin/lspci' c 0 0`);
    expect(script.trimEnd().split("\n").pop()).toBe("exec chroot '/x/m' /usr/sbin/sshd -D -e -f '/etc/omstack-lab/c'");
  });
});
