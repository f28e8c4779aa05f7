// host.packages: the bundle's OS packages (containerd, runc, the CNI plugins, conntrack, socat, iptables and their
// library closure) installed offline where a node lacks them or has an older one — never a downgrade of a newer system
// package. Debian family: the needed .debs are pushed (sha256-checked) and installed in one `dpkg -i`.
import { CommandError, OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import type { BundleParts } from "../bundleParts.js";
import { shq } from "../shell.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { compareDebVersions, parseDebVersion, type DebVersion } from "./debVersion.js";

/** OS families the bundle can carry packages for (bundle.json packages keys). */
export type OsFamily = "debian" | "rhel";

/** Where the needed packages are staged on a host, per bundle version; removed after the install. */
export const PACKAGES_STAGING_ROOT = "/var/lib/omstack/packages";

/** What a node needs from its OS to run pods, whether the bundle installs it or the operator did. */
export interface RuntimeRequirement {
  /** Commands that must be on PATH. */
  commands: string[];
  /** CNI plugin binaries that must all sit in one of cniDirs. */
  cniPlugins: string[];
  cniDirs: string[];
}

/** containerd + runc, and the plugins k8s.cni's chain uses (bridge, host-local, portmap) plus containerd's loopback. */
export const DEFAULT_RUNTIME: RuntimeRequirement = {
  commands: ["containerd", "runc"],
  cniPlugins: ["bridge", "host-local", "loopback", "portmap"],
  // Debian's containernetworking-plugins install into /usr/lib/cni, upstream's tarball into /opt/cni/bin.
  cniDirs: ["/usr/lib/cni", "/opt/cni/bin"],
};

const FAMILY_OF: Record<string, OsFamily> = { debian: "debian", ubuntu: "debian", rhel: "rhel", centos: "rhel", rocky: "rhel", fedora: "rhel", almalinux: "rhel" };

/** KEY=value pairs of an os-release file (quotes removed); comments and blank lines skipped. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) v = v.slice(1, -1);
    out[m[1]!] = v.replace(/\\(["$`\\])/g, "$1");
  }
  return out;
}

/** The package family of an os-release: ID first, then each ID_LIKE word (Linux Mint → ubuntu → debian); null if unknown. */
export function osFamily(osRelease: string): OsFamily | null {
  const r = parseOsRelease(osRelease);
  for (const id of [r.ID ?? "", ...(r.ID_LIKE ?? "").split(/\s+/)]) {
    const f = FAMILY_OF[id.toLowerCase()];
    if (f) return f;
  }
  return null;
}

/** One line of `dpkg-query -W -f='${Package}\t${Architecture}\t${Status}\t${Version}\n'`. */
export interface DpkgEntry {
  name: string;
  arch: string;
  /** "want ok state", e.g. "install ok installed", "deinstall ok config-files". */
  status: string;
  version: string;
}

/** The dpkg-query format host.packages reads (tab-separated, one package per line). */
export const DPKG_QUERY_FORMAT = "${Package}\\t${Architecture}\\t${Status}\\t${Version}\\n";

/** Parses the query's output; lines that are not four tab-separated fields are an error (dpkg changed?). */
export function parseDpkgQuery(stdout: string, host: string): DpkgEntry[] {
  const out: DpkgEntry[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split("\t");
    if (f.length !== 4) {
      throw new OmstackError("E_STEP_OUTPUT", `${host}: dpkg-query printed ${JSON.stringify(line)}; expected package, architecture, status and version separated by tabs`, { host, remedy: "run `dpkg-query -W containerd` on the host by hand and report its dpkg version" });
    }
    out.push({ name: f[0]!, arch: f[1]!, status: f[2]!, version: f[3]! });
  }
  return out;
}

/** A bundle package as the step decides on it. */
export interface BundlePackage {
  name: string;
  version: string;
  path: string;
  /** From the .deb's file name (`_amd64.deb`, `_all.deb`); null when the name does not say. */
  arch: string | null;
}

/** Why a package is installed or left alone. */
export type PackageReason = "missing" | "not fully installed" | "older" | "same" | "newer";

/** What the step does with one bundle package on one host. */
export interface PackageDecision {
  name: string;
  bundleVersion: string;
  /** The host's installed version, null when it has none installed. */
  hostVersion: string | null;
  install: boolean;
  reason: PackageReason;
}

/**
 * Installs only a missing, half-installed or older package; an equal or newer one is left alone, so a system library
 * that a security update made newer than the bundle's is never downgraded.
 */
export function decidePackage(pkg: BundlePackage, entries: readonly DpkgEntry[]): PackageDecision {
  const want = parseDebVersion(pkg.version)!;
  const mine = entries.filter((e) => e.name === pkg.name && (pkg.arch === null || e.arch === pkg.arch || e.arch === "all" || pkg.arch === "all"));
  const installed = mine.filter((e) => e.status.split(" ")[2] === "installed");
  const base = { name: pkg.name, bundleVersion: pkg.version };
  if (installed.length === 0) {
    const partial = mine.find((e) => e.version !== "" && !/ (not-installed|config-files)$/.test(e.status));
    return partial ? { ...base, hostVersion: partial.version, install: true, reason: "not fully installed" } : { ...base, hostVersion: null, install: true, reason: "missing" };
  }
  // Several architectures installed (multiarch): the oldest one decides.
  const versions = installed.map((e) => ({ text: e.version, v: parseDebVersion(e.version) }));
  const unparsable = versions.find((x) => x.v === null);
  if (unparsable) return { ...base, hostVersion: unparsable.text, install: true, reason: "older" };
  const oldest = versions.reduce((a, b) => (compareDebVersions(b.v!, a.v!) < 0 ? b : a));
  const c = compareDebVersions(oldest.v as DebVersion, want);
  return { ...base, hostVersion: oldest.text, install: c < 0, reason: c < 0 ? "older" : c === 0 ? "same" : "newer" };
}

/** "containerd (missing)", "libssl3 3.0.11-1 < 3.0.20-1" — for pending reasons, notes and dry-run lines. */
export function describeDecision(d: PackageDecision): string {
  if (d.reason === "missing") return `${d.name} ${d.bundleVersion} (missing)`;
  if (d.reason === "not fully installed") return `${d.name} ${d.bundleVersion} (host has ${d.hostVersion} not fully installed)`;
  if (d.reason === "older") return `${d.name} ${d.hostVersion} → ${d.bundleVersion}`;
  return `${d.name} ${d.hostVersion} (${d.reason === "same" ? "same as the bundle" : `newer than the bundle's ${d.bundleVersion}: left alone`})`;
}

const PKG_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const BUNDLE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;

/** The bundle's packages by family, each checked: a valid name and version and a file the bundle really has. */
export function bundlePackages(parts: BundleParts): Map<string, BundlePackage[]> {
  const out = new Map<string, BundlePackage[]>();
  for (const [family, list] of Object.entries(parts.packages ?? {})) {
    out.set(
      family,
      list.map((p) => {
        if (!PKG_NAME.test(p.name) || parseDebVersion(p.version) === null) {
          throw new OmstackError("E_STEP_CONFIG", `bundle ${parts.version}: package ${JSON.stringify(p.name)} ${JSON.stringify(p.version)} (${family}) is not a valid package name and version`, { remedy: "rebuild the bundle with `omstack bundle build`; its packages list was damaged" });
        }
        if (!parts.part(p.path)) {
          throw new OmstackError("E_BUNDLE_PART_MISSING", `bundle ${parts.version} lists package ${p.name} ${p.version} but has no file ${p.path}`, { remedy: "rebuild the bundle (omstack bundle inspect lists its files)" });
        }
        return { ...p, arch: /_([a-z0-9]+)\.(deb|rpm)$/.exec(p.path)?.[1] ?? null };
      }),
    );
  }
  return out;
}

/** The staged file name on the host: the .deb's own name with ':' (an epoch) written as apt does, %3a. */
export function stagedName(pkg: BundlePackage): string {
  const base = pkg.path.slice(pkg.path.lastIndexOf("/") + 1).replace(/:/g, "%3a");
  return /^[A-Za-z0-9.+~%_-]+$/.test(base) ? base : `${pkg.name}.deb`;
}

/** What a step learns about one host before deciding. */
export interface PackagesSurvey {
  osName: string;
  family: OsFamily | null;
  /** True when the step installs here (Debian family and the bundle carries Debian packages). */
  installs: boolean;
  decisions: PackageDecision[];
  /** Runtime commands missing from PATH and "CNI plugins (…)" when no CNI directory holds them all. */
  runtimeMissing: string[];
}

async function runtimeMissing(ctx: ReadCtx, rt: RuntimeRequirement): Promise<string[]> {
  const missing: string[] = [];
  for (const c of rt.commands) if (!(await ctx.commandExists(c))) missing.push(c);
  if (rt.cniPlugins.length > 0) {
    let found = false;
    for (const dir of rt.cniDirs) {
      let all = true;
      for (const p of rt.cniPlugins) if (!(await ctx.exists(`${dir}/${p}`))) all = false;
      if (all) found = true;
    }
    if (!found) missing.push(`CNI plugins (${rt.cniPlugins.join(", ")}) in ${rt.cniDirs.join(" or ")}`);
  }
  return missing;
}

/** Builds the step from the bundle's packages; `runtime` says what must be present afterwards (default DEFAULT_RUNTIME). */
export function hostPackages(opts: { parts: BundleParts; runtime?: RuntimeRequirement; hosts?: (plan: Plan) => string[] }): Step<Plan> {
  const id = "host.packages";
  const parts = opts.parts;
  const rt = opts.runtime ?? DEFAULT_RUNTIME;
  if (!BUNDLE_VERSION.test(parts.version)) throw new OmstackError("E_STEP_CONFIG", `bundle version ${JSON.stringify(parts.version)} cannot name a directory`, { remedy: "rebuild the bundle with a plain version" });
  const byFamily = bundlePackages(parts);
  const staging = `${PACKAGES_STAGING_ROOT}/${parts.version}`;
  const surveys = new Map<string, PackagesSurvey>();

  async function survey(ctx: ReadCtx): Promise<PackagesSurvey> {
    const text = (await ctx.readText("/etc/os-release")) ?? (await ctx.readText("/usr/lib/os-release")) ?? "";
    const r = parseOsRelease(text);
    const osName = r.PRETTY_NAME ?? r.ID ?? "an OS without /etc/os-release";
    const family = osFamily(text);
    const list = family ? (byFamily.get(family) ?? []) : [];
    const installs = family === "debian" && list.length > 0;
    let decisions: PackageDecision[] = [];
    if (installs) {
      const q = await ctx.query(`dpkg-query -W -f='${DPKG_QUERY_FORMAT}' ${[...new Set(list.map((p) => p.name))].join(" ")}`, { okExitCodes: [0, 1], timeoutMs: 60_000 });
      const entries = parseDpkgQuery(q.stdout, ctx.host);
      decisions = list.map((p) => decidePackage(p, entries));
    }
    const s = { osName, family, installs, decisions, runtimeMissing: await runtimeMissing(ctx, rt) };
    surveys.set(ctx.host, s);
    return s;
  }

  const why = (s: PackagesSurvey) =>
    s.family === null ? `${s.osName} is not a Debian- or RHEL-family system` : s.family === "debian" ? `the bundle carries no Debian packages` : `the bundle carries no packages omstack installs on ${s.family}-family systems`;
  const runtimeError = (host: string, s: PackagesSurvey) =>
    new OmstackError("E_HOST_RUNTIME_MISSING", `${host}: ${s.installs ? "after the bundle's packages" : `${why(s)}, so nothing was installed, and`} the node lacks ${s.runtimeMissing.join(", ")}`, {
      host,
      remedy: s.installs
        ? "the bundle's packages did not provide them: use a bundle built with containerd, runc and containernetworking-plugins (omstack bundle inspect lists its packages)"
        : "install containerd, runc and the CNI plugins from the OS vendor's repositories (e.g. `dnf install containerd.io containernetworking-plugins`), then run the install again",
    });

  return {
    id,
    title: "Install the bundle's OS packages (containerd, runc, CNI plugins, conntrack, socat, iptables)",
    targets: opts.hosts ?? allNodes,
    inputs: () => ({ bundle: parts.version, packages: Object.fromEntries([...byFamily].map(([f, l]) => [f, l.map((p) => ({ name: p.name, version: p.version, sha256: parts.part(p.path)!.sha256 }))])), runtime: rt }),
    async check(ctx): Promise<CheckResult> {
      const s = await survey(ctx);
      const todo = s.decisions.filter((d) => d.install);
      if (todo.length > 0) return { pending: `${todo.length} of ${s.decisions.length} bundle packages to install: ${todo.map(describeDecision).join(", ")}` };
      if (s.runtimeMissing.length > 0) return { pending: `${s.installs ? "" : `${why(s)}; `}missing: ${s.runtimeMissing.join(", ")}` };
      return "done";
    },
    async apply(ctx) {
      const s = await survey(ctx);
      if (!s.installs) {
        ctx.note(`${why(s)}: no packages installed; only checked that ${rt.commands.join(", ")} and the CNI plugins are present`);
        if (s.runtimeMissing.length > 0) throw runtimeError(ctx.host, s);
        return;
      }
      const newer = s.decisions.filter((d) => d.reason === "newer");
      if (newer.length > 0) ctx.note(`kept the host's newer packages: ${newer.map(describeDecision).join(", ")}`);
      const todo = s.decisions.filter((d) => d.install);
      if (todo.length === 0) {
        if (s.runtimeMissing.length > 0) throw runtimeError(ctx.host, s);
        return;
      }
      const pkgs = todo.map((d) => byFamily.get("debian")!.find((p) => p.name === d.name && p.version === d.bundleVersion)!);
      const files = pkgs.map((p) => `${staging}/${stagedName(p)}`);
      try {
        for (const [i, p] of pkgs.entries()) {
          const part = parts.part(p.path)!;
          await ctx.pushFile(part.source, files[i]!, { sha256: part.sha256, mode: 0o600 });
        }
        // One dpkg -i for all: the packages satisfy each other's dependencies, in whatever order they are listed.
        const cmd = `PATH="$PATH:/usr/sbin:/sbin" DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold ${files.map(shq).join(" ")}`;
        try {
          await ctx.run(cmd, { timeoutMs: 15 * 60_000 });
        } catch (e) {
          if (!(e instanceof CommandError)) throw e;
          throw new CommandError("E_HOST_PACKAGES_FAILED", `${ctx.host}: installing ${todo.length} bundle packages with dpkg -i failed (exit status ${e.exitStatus ?? "none"})`, e.command, e.exitStatus, e.outputTail, {
            host: ctx.host,
            cause: e,
            remedy: "read dpkg's output below: a dependency outside the bundle (install it from the OS vendor's repositories) or a held/conflicting package (`dpkg --audit` on the host); fix it, then run the install again",
          });
        }
      } finally {
        await ctx.run(`rm -rf -- ${shq(staging)}`).catch((e: unknown) => ctx.note(`could not remove ${staging}: ${(e as Error).message}`));
      }
    },
    async verify(ctx) {
      const s = await survey(ctx);
      const short = s.decisions.filter((d) => d.install);
      if (short.length > 0) {
        throw verifyFailed(ctx.host, id, `every bundle package must be installed at the bundle's version or newer; found ${short.map((d) => `${d.name} ${d.hostVersion ?? "not installed"} (bundle ${d.bundleVersion})`).join(", ")}`, "run `dpkg --audit` on the host and read `/var/log/dpkg.log`; then run the install again");
      }
      if (s.runtimeMissing.length > 0) throw runtimeError(ctx.host, s);
    },
    describe(ctx) {
      const s = surveys.get(ctx.host);
      if (!s) return [`install the bundle's missing or older packages for this host's OS family from ${staging} with one dpkg -i`];
      if (!s.installs) return [`${why(s)}: install nothing; require ${rt.commands.join(", ")} and the CNI plugins to be present`];
      const todo = s.decisions.filter((d) => d.install);
      return [
        `${s.osName}: push ${todo.length} .deb(s) to ${staging}/ (sha256-checked), DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold, then remove the folder:`,
        ...todo.map((d) => `  install ${describeDecision(d)}`),
        ...s.decisions.filter((d) => !d.install).map((d) => `  keep ${describeDecision(d)}`),
      ];
    },
  };
}
