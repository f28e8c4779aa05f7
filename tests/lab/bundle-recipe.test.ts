// The lab bundle's recipe generator: dpkg status parsing and the package closure on paragraphs captured from the lab
// rootfs, .deb names the bundle accepts, and a rendered recipe that the real recipe parser takes as written.
import { describe, expect, it } from "vitest";
import { pathProblem } from "../../installer/src/bundle/paths.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { baseSystem, componentsFromImages, debBundleName, debCacheName, labVersion, packageClosure, parseDpkgStatus, parseImageLines, renderLabRecipe } from "./bundle-recipe.js";

// Paragraphs of $OMSTACK_LAB_CACHE/rootfs/bookworm-*/var/lib/dpkg/status (fields trimmed to what the parser reads),
// plus one package removed with its config files kept, which dpkg lists but is not installed.
const STATUS = `Package: containerd
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.6.20~ds1-1+deb12u3
Depends: runc (>= 0.1.0~), libc6 (>= 2.34)

Package: runc
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.1.5+ds1-1+deb12u1
Depends: libc6 (>= 2.34), libseccomp2 (>= 2.5.0)

Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u14
Depends: libgcc-s1

Package: libseccomp2
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 2.5.4-1+deb12u1
Depends: libc6 (>= 2.4)

Package: apt
Status: install ok installed
Priority: required
Architecture: amd64
Version: 2.6.1
Depends: gpgv | gpgv2 | gpgv1, libc6 (>= 2.34), libgcc-s1 (>= 3.0), libseccomp2 (>= 2.4.2)

Package: gpgv
Status: install ok installed
Priority: important
Architecture: amd64
Version: 2.2.40-1.1+deb12u2
Depends: libc6 (>= 2.34)

Package: libgcc-s1
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 12.2.0-14+deb12u1
Depends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)

Package: gcc-12-base
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 12.2.0-14+deb12u1

Package: conntrack
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1:1.4.7-1+b2
Depends: libc6 (>= 2.34), libmnl0 (>= 1.0.3-4~), libnetfilter-conntrack3 (>= 1.0.9)

Package: libmnl0
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.0.4-3
Depends: libc6 (>= 2.14)

Package: libnetfilter-conntrack3
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.0.9-3
Depends: libc6 (>= 2.14), libmnl0 (>= 1.0.3-4~), libnfnetlink0 (>= 1.0.2)

Package: libnfnetlink0
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.0.2-2
Depends: libc6 (>= 2.14)

Package: socat
Status: deinstall ok config-files
Priority: optional
Architecture: amd64
Version: 1.7.4.4-2
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0), libwrap0 (>= 7.6-4~)
`;

const D = (c: string) => `sha256:${c.repeat(64)}`;
const IMAGES = [
  { name: "registry.k8s.io/pause:3.10.1", digest: D("1") },
  { name: "registry.k8s.io/kube-apiserver:v1.34.4", digest: D("2") },
  { name: "registry.k8s.io/etcd:3.6.5-0", digest: D("3") },
  { name: "registry.k8s.io/coredns/coredns:v1.12.1", digest: D("4") },
  { name: "omstack.lab/echo:v1", digest: D("5") },
];

describe("dpkg status and the package closure", () => {
  const installed = parseDpkgStatus(STATUS);

  it("reads installed packages with versions, priorities and dependency groups; skips config-files leftovers", () => {
    expect(installed.has("socat")).toBe(false);
    expect(installed.get("conntrack")).toMatchObject({ version: "1:1.4.7-1+b2", arch: "amd64", priority: "optional" });
    expect(installed.get("apt")!.depends).toEqual([["gpgv", "gpgv2", "gpgv1"], ["libc6"], ["libgcc-s1"], ["libseccomp2"]]);
  });

  it("the base system is the required packages and everything they pull in", () => {
    expect([...baseSystem(installed)].sort()).toEqual(["apt", "gcc-12-base", "gpgv", "libc6", "libgcc-s1", "libseccomp2"]);
  });

  it("ships the roots and their non-base dependencies, sorted; names roots that are not installed", () => {
    const { packages, missing } = packageClosure(installed, ["containerd", "conntrack", "socat"]);
    expect(packages.map((p) => p.name)).toEqual(["conntrack", "containerd", "libmnl0", "libnetfilter-conntrack3", "libnfnetlink0", "runc"]);
    expect(missing).toEqual(["socat"]);
  });

  it("a root that is part of the base system is still shipped", () => {
    expect(packageClosure(installed, ["libseccomp2"]).packages.map((p) => p.name)).toEqual(["libseccomp2"]);
  });

  it("maps the apt cache's %3a file name to a name the bundle's path rules accept", () => {
    const p = installed.get("conntrack")!;
    expect(debCacheName(p)).toBe("conntrack_1%3a1.4.7-1+b2_amd64.deb");
    expect(pathProblem(`packages/debian/${debCacheName(p)}`)).not.toBeNull();
    expect(debBundleName(p)).toBe("conntrack_1:1.4.7-1+b2_amd64.deb");
    expect(pathProblem(`packages/debian/${debBundleName(p)}`)).toBeNull();
  });
});

describe("the recipe", () => {
  it("reads NAME DIGEST lines and refuses anything else, saying what it expected", () => {
    expect(parseImageLines(`${IMAGES[0]!.name} ${IMAGES[0]!.digest}\n\n`)).toEqual([IMAGES[0]]);
    expect(() => parseImageLines("registry.k8s.io/pause:3.10.1 sha256:abc")).toThrow(/line 1: expected "registry\/repo:tag sha256:<64 hex>"/);
    expect(() => parseImageLines(`registry.k8s.io/pause@${D("1")} ${D("1")}`)).toThrow(/line 1/);
  });

  it("reads component versions off the image tags", () => {
    expect(componentsFromImages(IMAGES)).toEqual({ kubernetes: "1.34.4", etcd: "3.6.5", coredns: "1.12.1" });
    expect(labVersion("0.1.0", "1.34.4")).toBe("0.1.0-lab.k8s1.34.4");
  });

  it("renders a recipe the bundle's own parser accepts, with images pinned and named as upstream names them", () => {
    const text = renderLabRecipe({
      omstackVersion: "0.1.0",
      images: IMAGES,
      binaries: [{ path: "bin/kubeadm", source: "/cache/bin/kubeadm" }],
      packages: [{ name: "conntrack", version: "1:1.4.7-1+b2", source: "/cache/inputs/debs/conntrack_1:1.4.7-1+b2_amd64.deb" }],
      extraComponents: { containerd: "1.6.20~ds1-1+deb12u3", runc: "1.1.5+ds1-1+deb12u1" },
    });
    const r = parseRecipe(text, "/cache/bundle/recipe.yaml");
    expect(r.version).toBe("0.1.0-lab.k8s1.34.4");
    expect(r.buildTime).toBeUndefined();
    expect(r.components).toEqual({ containerd: "1.6.20~ds1-1+deb12u3", coredns: "1.12.1", etcd: "3.6.5", kubernetes: "1.34.4", omstack: "0.1.0", runc: "1.1.5+ds1-1+deb12u1" });
    expect(r.images.map((i) => i.name)).toEqual([
      "omstack.lab/echo:v1",
      "registry.k8s.io/coredns/coredns:v1.12.1",
      "registry.k8s.io/etcd:3.6.5-0",
      "registry.k8s.io/kube-apiserver:v1.34.4",
      "registry.k8s.io/pause:3.10.1",
    ]);
    expect(r.images.find((i) => i.name === "registry.k8s.io/pause:3.10.1")!.source).toEqual({ kind: "registry", registry: "registry.k8s.io", repository: "pause", digest: D("1") });
    expect(r.files).toEqual([{ path: "bin/kubeadm", mode: 0o755, source: { kind: "local", path: "/cache/bin/kubeadm" } }]);
    expect(r.packages.debian).toEqual([{ name: "conntrack", version: "1:1.4.7-1+b2", source: { kind: "local", path: "/cache/inputs/debs/conntrack_1:1.4.7-1+b2_amd64.deb" } }]);
  });
});
