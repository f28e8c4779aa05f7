// host.packages: os-release families, the install/keep decision (never a downgrade), and whole-step scenarios on
// in-memory hosts whose dpkg is simulated: missing, older, same and newer packages; a dpkg failure; a non-Debian host.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import type { StepIo } from "../../executor/ports.js";
import type { BundleParts, BundlePartPackage } from "../bundleParts.js";
import { decidePackage, describeDecision, hostPackages, osFamily, parseDpkgQuery, stagedName, type DpkgEntry } from "./packages.js";

const io = (notes: string[] = []): StepIo => ({ log: () => {}, note: (m) => notes.push(m) });

// Real os-release files (Debian 12, Ubuntu 24.04, Rocky 9, Linux Mint 21, Alpine 3.19), trimmed to the keys read.
const DEBIAN12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n`;
const UBUNTU = `PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n`;
const ROCKY = `NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n`;
const MINT = `NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\nPRETTY_NAME="Linux Mint 21.3"\n`;
const ALPINE = `NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n`;

describe("os-release family", () => {
  it.each([
    [DEBIAN12, "debian"],
    [UBUNTU, "debian"],
    [MINT, "debian"],
    [ROCKY, "rhel"],
    [`ID="centos"\nID_LIKE="rhel fedora"\n`, "rhel"],
    [`ID=fedora\n`, "rhel"],
    [ALPINE, null],
    ["", null],
  ])("%#: %j → %s", (text, family) => {
    expect(osFamily(text)).toBe(family);
  });
});

const entry = (name: string, version: string, status = "install ok installed", arch = "amd64"): DpkgEntry => ({ name, arch, status, version });
const pkg = (name: string, version: string, arch: string | null = "amd64") => ({ name, version, path: `packages/debian/${name}_${version}_${arch ?? "x"}.deb`, arch });

describe("install or keep", () => {
  it.each([
    ["missing", [], true, "missing", null],
    ["removed, config files left", [entry("containerd", "1.6.20~ds1-1", "deinstall ok config-files")], true, "missing", null],
    ["known, never installed", [entry("containerd", "", "unknown ok not-installed")], true, "missing", null],
    ["half-configured", [entry("containerd", "1.6.20~ds1-1+deb12u3", "install ok half-configured")], true, "not fully installed", "1.6.20~ds1-1+deb12u3"],
    ["older (a point release behind)", [entry("containerd", "1.6.20~ds1-1+deb12u1")], true, "older", "1.6.20~ds1-1+deb12u1"],
    ["same", [entry("containerd", "1.6.20~ds1-1+deb12u3")], false, "same", "1.6.20~ds1-1+deb12u3"],
    ["held at the same version", [entry("containerd", "1.6.20~ds1-1+deb12u3", "hold ok installed")], false, "same", "1.6.20~ds1-1+deb12u3"],
    ["newer (a security update)", [entry("containerd", "1.6.20~ds1-1+deb12u4")], false, "newer", "1.6.20~ds1-1+deb12u4"],
    ["newer (backport)", [entry("containerd", "1.7.24~ds1-6~bpo12+1")], false, "newer", "1.7.24~ds1-6~bpo12+1"],
    ["other architecture only", [entry("containerd", "1.6.20~ds1-1+deb12u3", "install ok installed", "i386")], true, "missing", null],
  ])("%s", (_name, entries, install, reason, hostVersion) => {
    const d = decidePackage(pkg("containerd", "1.6.20~ds1-1+deb12u3"), entries as DpkgEntry[]);
    expect(d).toEqual({ name: "containerd", bundleVersion: "1.6.20~ds1-1+deb12u3", hostVersion, install, reason });
  });

  it("multiarch: the oldest installed copy decides; an arch:all package matches any", () => {
    const d = decidePackage(pkg("libssl3", "3.0.20-1~deb12u2"), [entry("libssl3", "3.0.21-1~deb12u1"), entry("libssl3", "3.0.11-1~deb12u2", "install ok installed", "i386")]);
    expect(d.reason).toBe("newer"); // the i386 copy is not the bundle's architecture
    const all = decidePackage(pkg("netbase", "6.4", "all"), [entry("netbase", "6.3", "install ok installed", "all")]);
    expect(all).toMatchObject({ install: true, reason: "older" });
    expect(describeDecision(all)).toBe("netbase 6.3 → 6.4");
  });

  it("parses dpkg-query lines and refuses others", () => {
    expect(parseDpkgQuery("runc\tamd64\tinstall ok installed\t1.1.5+ds1-1+deb12u1\nnetbase\tall\tinstall ok installed\t6.4\n", "h")).toEqual([entry("runc", "1.1.5+ds1-1+deb12u1"), entry("netbase", "6.4", "install ok installed", "all")]);
    expect(() => parseDpkgQuery("runc 1.1.5\n", "h")).toThrow(/dpkg-query printed "runc 1.1.5"/);
  });

  it("stages an epoch's colon as %3a", () => {
    expect(stagedName({ name: "conntrack", version: "1:1.4.7-1+b2", path: "packages/debian/conntrack_1:1.4.7-1+b2_amd64.deb", arch: "amd64" })).toBe("conntrack_1%3a1.4.7-1+b2_amd64.deb");
  });
});

// ---- whole-step scenarios on memory hosts ----

const dir = mkdtempSync(join(tmpdir(), "omstack-pkgs-"));
const BUNDLE: BundlePartPackage[] = [
  { name: "containerd", version: "1.6.20~ds1-1+deb12u3", path: "packages/debian/containerd_1.6.20~ds1-1+deb12u3_amd64.deb" },
  { name: "runc", version: "1.1.5+ds1-1+deb12u1", path: "packages/debian/runc_1.1.5+ds1-1+deb12u1_amd64.deb" },
  { name: "containernetworking-plugins", version: "1.1.1+ds1-3+b5", path: "packages/debian/containernetworking-plugins_1.1.1+ds1-3+b5_amd64.deb" },
  { name: "libssl3", version: "3.0.20-1~deb12u2", path: "packages/debian/libssl3_3.0.20-1~deb12u2_amd64.deb" },
  { name: "conntrack", version: "1:1.4.7-1+b2", path: "packages/debian/conntrack_1:1.4.7-1+b2_amd64.deb" },
];
const files = new Map(
  BUNDLE.map((p) => {
    const source = join(dir, p.path.replace(/\//g, "_"));
    const content = `fake deb ${p.name} ${p.version}`;
    writeFileSync(source, content);
    return [p.path, { path: p.path, source, sha256: createHash("sha256").update(content).digest("hex"), size: content.length, mode: 0o644 }];
  }),
);
const parts = (packages: Record<string, BundlePartPackage[]> | null = { debian: BUNDLE }): BundleParts => ({ version: "0.1.0-lab", part: (p) => files.get(p) ?? null, images: [], ...(packages ? { packages } : {}) });

const STAGING = "/var/lib/omstack/packages/0.1.0-lab";

/** A memory host with an os-release and a dpkg database that `dpkg -i` of pushed fake .debs updates. */
function debianHost(installed: Record<string, string>, o: { failDpkg?: boolean; osRelease?: string } = {}) {
  const hosts = new MemoryHosts(["n1"]);
  hosts.put("n1", "/etc/os-release", o.osRelease ?? DEBIAN12);
  const db = new Map(Object.entries(installed));
  const provides = (name: string) => {
    if (name === "containerd") hosts.commands.add("containerd");
    if (name === "runc") hosts.commands.add("runc");
    if (name === "containernetworking-plugins") for (const p of ["bridge", "host-local", "loopback", "portmap"]) hosts.put("n1", `/usr/lib/cni/${p}`, "");
  };
  for (const n of db.keys()) provides(n);
  hosts.commandHandler = (_h, cmd, fs) => {
    if (cmd.startsWith("dpkg-query -W")) {
      const names = cmd.slice(cmd.lastIndexOf("'") + 2).split(" ");
      const found = names.filter((n) => db.has(n));
      return { stdout: found.map((n) => `${n}\tamd64\tinstall ok installed\t${db.get(n)}\n`).join(""), stderr: names.filter((n) => !db.has(n)).map((n) => `dpkg-query: no packages found matching ${n}\n`).join(""), exitCode: found.length === names.length ? 0 : 1 };
    }
    if (cmd.includes("dpkg -i")) {
      if (o.failDpkg) return { stdout: "", stderr: "dpkg: dependency problems prevent configuration of containerd:\n containerd depends on libseccomp2 (>= 2.5.0); however:\n  Package libseccomp2 is not installed.\n", exitCode: 1 };
      for (const path of cmd.match(/'[^']+'/g) ?? []) {
        const f = fs.get(path.slice(1, -1));
        const m = /^fake deb (\S+) (\S+)$/.exec(f?.content.toString() ?? "");
        if (m) {
          db.set(m[1]!, m[2]!);
          provides(m[1]!);
        }
      }
      return undefined;
    }
    if (cmd.startsWith("rm -rf -- ")) {
      const d = cmd.slice("rm -rf -- ".length).replace(/'/g, "");
      for (const k of [...fs.keys()]) if (k.startsWith(d + "/")) fs.delete(k);
    }
    return undefined;
  };
  const ctx = async (notes: string[] = []) => {
    const h = await hosts.open("n1");
    return { read: soloReader(h.reader(io(notes))), write: soloWriter(h.writer(io(notes))) };
  };
  return { hosts, db, ctx };
}

const runs = (hosts: MemoryHosts) => hosts.writes.filter((w) => w.op === "run").map((w) => w.target);

describe("host.packages on a Debian host", () => {
  it("installs only what is missing or older, in one dpkg -i; leaves a newer libssl3 alone; then check says done", async () => {
    const { hosts, db, ctx } = debianHost({ runc: "1.1.5+ds1-1", libssl3: "3.0.21-1~deb12u1", "containernetworking-plugins": "1.1.1+ds1-3+b5" });
    const step = hostPackages({ parts: parts() });
    const notes: string[] = [];
    const { read, write } = await ctx(notes);
    expect(await step.check(read)).toEqual({ pending: "3 of 5 bundle packages to install: containerd 1.6.20~ds1-1+deb12u3 (missing), runc 1.1.5+ds1-1 → 1.1.5+ds1-1+deb12u1, conntrack 1:1.4.7-1+b2 (missing)" });
    expect(step.describe(read)).toEqual([
      `Debian GNU/Linux 12 (bookworm): push 3 .deb(s) to ${STAGING}/ (sha256-checked), DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold, then remove the folder:`,
      "  install containerd 1.6.20~ds1-1+deb12u3 (missing)",
      "  install runc 1.1.5+ds1-1 → 1.1.5+ds1-1+deb12u1",
      "  install conntrack 1:1.4.7-1+b2 (missing)",
      "  keep containernetworking-plugins 1.1.1+ds1-3+b5 (same as the bundle)",
      "  keep libssl3 3.0.21-1~deb12u1 (newer than the bundle's 3.0.20-1~deb12u2: left alone)",
    ]);
    expect(hosts.writes).toEqual([]); // check and describe wrote nothing
    await step.apply(write);
    expect(hosts.writes.filter((w) => w.op === "pushFile").map((w) => w.target)).toEqual([`${STAGING}/containerd_1.6.20~ds1-1+deb12u3_amd64.deb`, `${STAGING}/runc_1.1.5+ds1-1+deb12u1_amd64.deb`, `${STAGING}/conntrack_1%3a1.4.7-1+b2_amd64.deb`]);
    expect(runs(hosts)).toEqual([
      `PATH="$PATH:/usr/sbin:/sbin" DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold '${STAGING}/containerd_1.6.20~ds1-1+deb12u3_amd64.deb' '${STAGING}/runc_1.1.5+ds1-1+deb12u1_amd64.deb' '${STAGING}/conntrack_1%3a1.4.7-1+b2_amd64.deb'`,
      `rm -rf -- '${STAGING}'`,
    ]);
    expect(db.get("libssl3")).toBe("3.0.21-1~deb12u1");
    expect([...hosts.fs("n1").keys()].filter((k) => k.startsWith(STAGING))).toEqual([]);
    expect(notes).toEqual(["kept the host's newer packages: libssl3 3.0.21-1~deb12u1 (newer than the bundle's 3.0.20-1~deb12u2: left alone)"]);
    await step.verify(read);
    expect(await step.check(read)).toBe("done");
    const before = hosts.writes.length;
    await step.apply(write); // nothing left to do: no push, no dpkg
    expect(hosts.writes.length).toBe(before);
  });

  it("an Ubuntu host with everything at the bundle's version or newer: done, nothing pushed", async () => {
    const all = Object.fromEntries(BUNDLE.map((p) => [p.name, p.version]));
    const { hosts, ctx } = debianHost({ ...all, containerd: "1.7.24~ds1-6" }, { osRelease: UBUNTU });
    const step = hostPackages({ parts: parts() });
    const { read, write } = await ctx();
    expect(await step.check(read)).toBe("done");
    await step.apply(write);
    expect(hosts.writes).toEqual([]);
  });

  it("a dpkg failure keeps the command and dpkg's words, and the staging folder is removed anyway", async () => {
    const { hosts, ctx } = debianHost({}, { failDpkg: true });
    const step = hostPackages({ parts: parts() });
    const { write } = await ctx();
    const err = await step.apply(write).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "E_HOST_PACKAGES_FAILED", host: "n1", exitStatus: 1, command: expect.stringContaining("dpkg -i --force-confold"), outputTail: expect.stringContaining("Package libseccomp2 is not installed.") });
    expect((err as { remedy: string }).remedy).toMatch(/dependency outside the bundle/);
    expect(runs(hosts).at(-1)).toBe(`rm -rf -- '${STAGING}'`);
    expect([...hosts.fs("n1").keys()].filter((k) => k.startsWith(STAGING))).toEqual([]);
  });

  it("verify names a package still below the bundle's version", async () => {
    const { db, ctx } = debianHost({});
    const step = hostPackages({ parts: parts() });
    const { read, write } = await ctx();
    await step.apply(write);
    db.set("runc", "1.0.0~rc93-1");
    await expect(step.verify(read)).rejects.toMatchObject({ code: "E_STEP_VERIFY", message: expect.stringContaining("runc 1.0.0~rc93-1 (bundle 1.1.5+ds1-1+deb12u1)") });
  });
});

describe("host.packages where the bundle has no packages for the family", () => {
  it("Rocky with containerd, runc and CNI plugins present: done; apply notes and changes nothing", async () => {
    const hosts = new MemoryHosts(["r1"]);
    hosts.put("r1", "/etc/os-release", ROCKY);
    hosts.commands.add("containerd").add("runc");
    for (const p of ["bridge", "host-local", "loopback", "portmap"]) hosts.put("r1", `/opt/cni/bin/${p}`, "");
    const step = hostPackages({ parts: parts() });
    const notes: string[] = [];
    const h = await hosts.open("r1");
    expect(await step.check(soloReader(h.reader(io())))).toBe("done");
    await step.apply(soloWriter(h.writer(io(notes))));
    expect(notes).toEqual(["the bundle carries no packages omstack installs on rhel-family systems: no packages installed; only checked that containerd, runc and the CNI plugins are present"]);
    expect(hosts.writes).toEqual([]);
    expect(hosts.queries).toEqual([]); // no dpkg-query on a RHEL host
  });

  it("Alpine without runc or CNI plugins: pending, then E_HOST_RUNTIME_MISSING naming what is missing", async () => {
    const hosts = new MemoryHosts(["a1"]);
    hosts.put("a1", "/etc/os-release", ALPINE);
    hosts.commands.add("containerd");
    const step = hostPackages({ parts: parts() });
    const h = await hosts.open("a1");
    expect(await step.check(soloReader(h.reader(io())))).toEqual({ pending: "Alpine Linux v3.19 is not a Debian- or RHEL-family system; missing: runc, CNI plugins (bridge, host-local, loopback, portmap) in /usr/lib/cni or /opt/cni/bin" });
    await expect(step.apply(soloWriter(h.writer(io())))).rejects.toMatchObject({ code: "E_HOST_RUNTIME_MISSING", host: "a1", message: expect.stringContaining("the node lacks runc, CNI plugins"), remedy: expect.stringContaining("from the OS vendor's repositories") });
  });

  it("a Debian host and a bundle without packages: only the runtime check", async () => {
    const { ctx } = debianHost({});
    const step = hostPackages({ parts: parts(null) });
    const { read } = await ctx();
    expect(await step.check(read)).toMatchObject({ pending: expect.stringContaining("the bundle carries no Debian packages; missing: containerd, runc") });
  });
});

describe("bad bundles are refused when the step is built", () => {
  it.each([
    [{ debian: [{ name: "containerd", version: "1.0-1", path: "packages/debian/nope.deb" }] }, "E_BUNDLE_PART_MISSING", /has no file packages\/debian\/nope\.deb/],
    [{ debian: [{ name: "Bad Name", version: "1.0-1", path: BUNDLE[0]!.path }] }, "E_STEP_CONFIG", /not a valid package name and version/],
    [{ debian: [{ name: "runc", version: "not a version", path: BUNDLE[0]!.path }] }, "E_STEP_CONFIG", /not a valid package name and version/],
  ])("%#", (packages, code, message) => {
    expect(() => hostPackages({ parts: parts(packages) })).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});
