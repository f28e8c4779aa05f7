// Pure: turns a hardware profile (which capture files exist) plus a fault into what a test host must show:
// shim scripts, commands to hide, /proc files to bind, os-release. lab.ts applies the plan; nothing here touches the machine.

import type { TestHostFault } from "./types.js";

/** Where profile files live inside a host (written to its upper dir), so shims and binds can read them. */
export const PROFILE_DIR_IN_HOST = "/usr/share/omstack-lab/profile";

/** Where shims go: before /usr/sbin and /usr/bin in root's PATH. */
export const SHIM_DIR_IN_HOST = "/usr/local/bin";

/** Directories searched for a tool, in root's PATH order (Debian 12: /bin and /sbin are links into /usr). */
export const PATH_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] as const;

/** How the probe calls one tool for one capture: the shim prints the capture file when "$*" matches. */
export interface ShimRule {
  capture: string;
  tool: string;
  /** Exact values of "$*" (arguments joined by one space) that print the file. */
  argv: readonly string[];
  /** Or: "$*" starting with this prints the file (nvidia-smi --query-gpu=<any fields> --format=csv). */
  argvPrefix?: string;
  /** Base-system tools stay (real) when the profile lacks their file; hiding them would break shells and sshd sessions. */
  keepWhenAbsent?: boolean;
}

/** Every tool capture of installer/src/probe/captures.ts (plus the accepted alternatives), with the probe's exact arguments. */
export const SHIM_RULES: readonly ShimRule[] = [
  { capture: "uname.txt", tool: "uname", argv: ["-srm"], keepWhenAbsent: true },
  {
    capture: "lsblk.json",
    tool: "lsblk",
    argv: ["-J -b -O", "-J -b -o NAME,KNAME,PATH,SIZE,ROTA,TRAN,TYPE,MODEL,SERIAL,FSTYPE,MOUNTPOINT"],
  },
  { capture: "ip-addr.json", tool: "ip", argv: ["-j addr"] },
  { capture: "lspci.txt", tool: "lspci", argv: ["-Dnn"] },
  { capture: "nvidia-smi-q-x.xml", tool: "nvidia-smi", argv: ["-q -x"] },
  { capture: "nvidia-smi-q.txt", tool: "nvidia-smi", argv: ["-q"] },
  { capture: "nvidia-smi-query.csv", tool: "nvidia-smi", argv: [], argvPrefix: "--query-gpu=" },
  { capture: "nvcc-version.txt", tool: "nvcc", argv: ["--version"] },
  { capture: "ibv_devinfo.txt", tool: "ibv_devinfo", argv: ["-v"] },
  { capture: "ibstat.txt", tool: "ibstat", argv: [""] },
  { capture: "ibdev2netdev.txt", tool: "ibdev2netdev", argv: [""] },
  { capture: "rdma-link.txt", tool: "rdma", argv: ["link show"] },
  { capture: "ofed_info.txt", tool: "ofed_info", argv: ["-s"] },
  { capture: "timedatectl.txt", tool: "timedatectl", argv: ["show"] },
  { capture: "chronyc-tracking.txt", tool: "chronyc", argv: ["-n tracking"] },
  { capture: "df-var.txt", tool: "df", argv: ["-P -B1 /var"], keepWhenAbsent: true },
  { capture: "ss-listen.txt", tool: "ss", argv: ["-H -lntu"] },
];

/** Captures read with cat from /proc: bound read-only over the host's own procfs. */
export const PROC_BINDS: Readonly<Record<string, string>> = {
  "cpuinfo.txt": "/proc/cpuinfo",
  "meminfo.txt": "/proc/meminfo",
  "swaps.txt": "/proc/swaps",
  "modules.txt": "/proc/modules",
};

/** Capture shown as /proc/driver/nvidia/version (a tmpfs over /proc/driver). */
export const NVIDIA_VERSION_CAPTURE = "nvidia-version.txt";
/** Capture written as /etc/os-release and /usr/lib/os-release. */
export const OS_RELEASE_CAPTURE = "os-release";

/** Commands the container-runtimes capture looks for (installer/src/probe/captures.ts). */
export const CONTAINER_RUNTIMES = ["containerd", "dockerd", "docker", "crio", "podman", "runc", "kubelet"] as const;

/** Every capture name a profile may hold that the harness knows how to show. */
export const KNOWN_PROFILE_FILES: readonly string[] = [
  ...new Set([
    ...SHIM_RULES.map((r) => r.capture),
    ...Object.keys(PROC_BINDS),
    NVIDIA_VERSION_CAPTURE,
    OS_RELEASE_CAPTURE,
  ]),
];

export interface PlanInput {
  /** Capture files in the profile; null = no profile (the host shows the machine's own tools). */
  profileFiles: readonly string[] | null;
  fault: TestHostFault | null;
  hangTool: string;
  keepTools: readonly string[];
  hideCommands: readonly string[];
  /** Where a command exists on the machine: absolute paths, PATH_DIRS order, symlinked duplicates removed (nvcc: also /usr/local/cuda/bin). */
  locate(tool: string): readonly string[];
}

export interface ShimFile {
  tool: string;
  /** Path inside the host. */
  path: string;
  script: string;
}

export interface ProfilePlan {
  /** Capture files copied to PROFILE_DIR_IN_HOST (a subset of profileFiles). */
  files: string[];
  shims: ShimFile[];
  /** Host paths turned into overlay whiteouts (the command is absent). */
  hidden: string[];
  procBinds: { capture: string; target: string }[];
  nvidiaVersion: string | null;
  osRelease: string | null;
}

/** Quotes one word for POSIX sh. */
export function shQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

const SLOW_SECONDS = 2;
const FOREVER_SECONDS = 2147483647;

/** Computes what one host must show for its profile and fault. */
export function planProfile(input: PlanInput): ProfilePlan {
  const have = new Set(input.profileFiles ?? []);
  const hasProfile = input.profileFiles !== null;
  const files = KNOWN_PROFILE_FILES.filter((f) => have.has(f));
  const tools = [...new Set(SHIM_RULES.map((r) => r.tool))];
  const shims: ShimFile[] = [];
  const hidden = new Set<string>();
  const shimPath = (tool: string) => `${SHIM_DIR_IN_HOST}/${tool}`;

  for (const tool of tools) {
    const rules = SHIM_RULES.filter((r) => r.tool === tool && have.has(r.capture));
    const found = input.locate(tool);
    const real = found.find((p) => !p.startsWith("/usr/local/")) ?? null;
    const hang = input.fault === "hang" && input.hangTool === tool;
    const slowPassThrough = !hasProfile && input.fault === "slow" && real !== null;
    const keep = input.keepTools.includes(tool) || SHIM_RULES.some((r) => r.tool === tool && r.keepWhenAbsent);
    if (rules.length > 0 || hang || slowPassThrough) {
      shims.push({ tool, path: shimPath(tool), script: shimScript(tool, rules, real, input.fault, hang) });
      // a copy earlier in PATH than the shim would win: hide it
      for (const p of found) if (p.startsWith("/usr/local/sbin/")) hidden.add(p);
    } else if (hasProfile && !keep) {
      for (const p of found) hidden.add(p);
    }
  }
  if (input.fault === "hang" && !tools.includes(input.hangTool)) {
    const found = input.locate(input.hangTool);
    shims.push({ tool: input.hangTool, path: shimPath(input.hangTool), script: shimScript(input.hangTool, [], null, "hang", true) });
    for (const p of found) if (p.startsWith("/usr/local/sbin/")) hidden.add(p);
  }
  // a profiled host starts without container runtimes, whatever this machine has installed (deterministic probe facts)
  if (hasProfile) for (const rt of CONTAINER_RUNTIMES) if (!input.keepTools.includes(rt)) for (const p of input.locate(rt)) hidden.add(p);
  for (const cmd of input.hideCommands) for (const p of input.locate(cmd)) hidden.add(p);
  // never hide a path that a shim is written to
  for (const s of shims) hidden.delete(s.path);

  return {
    files,
    shims,
    hidden: [...hidden].sort(),
    procBinds: Object.entries(PROC_BINDS)
      .filter(([capture]) => have.has(capture))
      .map(([capture, target]) => ({ capture, target })),
    nvidiaVersion: have.has(NVIDIA_VERSION_CAPTURE) ? NVIDIA_VERSION_CAPTURE : null,
    osRelease: have.has(OS_RELEASE_CAPTURE) ? OS_RELEASE_CAPTURE : null,
  };
}

function shimScript(
  tool: string,
  rules: readonly ShimRule[],
  real: string | null,
  fault: TestHostFault | null,
  hang: boolean,
): string {
  const lines = [
    "#!/bin/sh",
    `# omstack test-host shim for ${tool}: prints recorded profile output for the probe's exact arguments (tests/hosts/README.md)`,
  ];
  if (hang) lines.push(`exec sleep ${FOREVER_SECONDS}`);
  if (fault === "slow") lines.push(`sleep ${SLOW_SECONDS}`);
  if (rules.length > 0) {
    lines.push('case "$*" in');
    for (const r of rules) {
      const file = shQuote(`${PROFILE_DIR_IN_HOST}/${r.capture}`);
      const patterns = r.argv.map((a) => shQuote(a));
      if (r.argvPrefix !== undefined) patterns.push(`${shQuote(r.argvPrefix)}*`);
      lines.push(`  ${patterns.join("|")}) exec cat ${file} ;;`);
    }
    lines.push("esac");
  }
  if (real !== null) lines.push(`exec ${shQuote(real)} "$@"`);
  lines.push(`echo "${tool}: this omstack test host has no recorded output for: ${tool} $*" >&2`, "exit 1", "");
  return lines.join("\n");
}
