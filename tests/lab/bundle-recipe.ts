// Writes the lab bundle's recipe (docs/bundle.md §Recipe) from what the lab built: the images pushed to the loopback
// registry (pinned by digest, named as upstream names them), the Kubernetes binaries, the Debian packages a node
// needs (from the lab rootfs's dpkg database and the .deb cache), and the app tarball + Node runtime when present.
// The pure part (dpkg parsing, the package closure, the recipe itself) is exported for tests/lab/bundle-recipe.test.ts.
//
//   tsx tests/lab/bundle-recipe.ts --images FILE --k8s-bin DIR --rootfs DIR --debs DIR --deb-links DIR --out RECIPE
//                                  [--app TAR --node BIN]
//
// --images: "NAME DIGEST" lines (push-oci.ts prints them). --deb-links: a folder this script fills with symlinks
// named debBundleName → the cached .debs (a bundle entry takes its source's file name, and "%3a" is not allowed). Prints every local input file, one a line, on stdout
// (bundle.sh hashes them to decide whether the bundle is up to date).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { parseImageRef } from "../../installer/src/bundle/oci.js";

/** One installed package in a dpkg status file. */
export interface DpkgPackage {
  name: string;
  version: string;
  arch: string;
  priority: string;
  essential: boolean;
  depends: string[][]; // AND of OR-groups of package names
}

/** Parses /var/lib/dpkg/status: the installed packages by name (others are ignored). */
export function parseDpkgStatus(text: string): Map<string, DpkgPackage> {
  const out = new Map<string, DpkgPackage>();
  for (const para of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    let last = "";
    for (const line of para.split("\n")) {
      if (/^\s/.test(line) && last) f.set(last, `${f.get(last)}\n${line.trim()}`);
      else {
        const c = line.indexOf(":");
        if (c <= 0) continue;
        last = line.slice(0, c);
        f.set(last, line.slice(c + 1).trim());
      }
    }
    const name = f.get("Package");
    if (!name || !/\binstalled$/.test(f.get("Status") ?? "") || /not-installed|config-files/.test(f.get("Status") ?? "")) continue;
    const deps = [f.get("Pre-Depends"), f.get("Depends")].filter((d): d is string => !!d).join(", ");
    out.set(name, {
      name,
      version: f.get("Version") ?? "",
      arch: f.get("Architecture") ?? "",
      priority: f.get("Priority") ?? "optional",
      essential: f.get("Essential") === "yes",
      depends: deps
        ? deps.split(",").map((g) =>
            g
              .split("|")
              .map((alt) => alt.trim().replace(/\s*\(.*\)$/, "").replace(/:\w+$/, ""))
              .filter(Boolean),
          )
        : [],
    });
  }
  return out;
}

/** Everything a minimal Debian system has: the Essential and Priority-required packages and what they depend on. */
export function baseSystem(installed: Map<string, DpkgPackage>): Set<string> {
  const base = new Set<string>();
  const visit = (name: string) => {
    const p = installed.get(name);
    if (!p || base.has(name)) return;
    base.add(name);
    for (const group of p.depends) {
      const pick = group.find((alt) => installed.has(alt));
      if (pick) visit(pick);
    }
  };
  for (const p of installed.values()) if (p.essential || p.priority === "required") visit(p.name);
  return base;
}

/** The packages to ship for `roots`: the roots and what they depend on, minus the base system (baseSystem) that
 *  every Debian host has. An OR-group takes its first installed alternative. Sorted by name. */
export function packageClosure(installed: Map<string, DpkgPackage>, roots: string[]): { packages: DpkgPackage[]; missing: string[] } {
  const base = baseSystem(installed);
  const seen = new Set<string>();
  const missing: string[] = [];
  const packages: DpkgPackage[] = [];
  const visit = (name: string, isRoot: boolean) => {
    if (seen.has(name)) return;
    seen.add(name);
    const p = installed.get(name);
    if (!p) {
      missing.push(name);
      return;
    }
    if (!isRoot && base.has(name)) return;
    packages.push(p);
    for (const group of p.depends) {
      const pick = group.find((alt) => installed.has(alt)) ?? group[0];
      if (pick) visit(pick, false);
    }
  };
  for (const r of roots) visit(r, true);
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { packages, missing };
}

/** The file name apt and debootstrap give a .deb in their caches (an epoch's colon is written %3a). */
export function debCacheName(p: Pick<DpkgPackage, "name" | "version" | "arch">): string {
  return `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.arch}.deb`;
}

/** The name a .deb gets in the bundle: dpkg-deb's own (colon kept), since the bundle's path rules refuse "%". */
export function debBundleName(p: Pick<DpkgPackage, "name" | "version" | "arch">): string {
  return `${p.name}_${p.version}_${p.arch}.deb`;
}

/** An image pinned by digest, as the push printed it. */
export interface PinnedImage {
  name: string;
  digest: string;
}

/** Parses "NAME DIGEST" lines; every name must have a tag and every digest be sha256. */
export function parseImageLines(text: string): PinnedImage[] {
  const out: PinnedImage[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const [name = "", digest = "", extra] = line.trim().split(/\s+/);
    const r = parseImageRef(name);
    if (!r || r.digest || !/^sha256:[0-9a-f]{64}$/.test(digest) || extra !== undefined) {
      throw new Error(`images line ${i + 1}: expected "registry/repo:tag sha256:<64 hex>", found "${line}"`);
    }
    out.push({ name, digest });
  }
  return out;
}

/** Component versions read off the images' tags (kube-apiserver v1.34.4 → kubernetes 1.34.4, etcd 3.6.5-0 → 3.6.5). */
export function componentsFromImages(images: PinnedImage[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const im of images) {
    const r = parseImageRef(im.name);
    if (!r?.tag) continue;
    const repo = r.repository;
    if (repo === "kube-apiserver") out.kubernetes = r.tag.replace(/^v/, "");
    else if (repo === "etcd") out.etcd = r.tag.replace(/-\d+$/, "");
    else if (repo === "coredns/coredns" || repo === "coredns") out.coredns = r.tag.replace(/^v/, "");
  }
  return out;
}

/** Everything the recipe is made of; paths are absolute. */
export interface LabRecipeInput {
  omstackVersion: string;
  images: PinnedImage[];
  binaries: { path: string; source: string }[]; // bin/kubeadm ← …
  packages: { name: string; version: string; source: string }[];
  extraComponents: Record<string, string>; // containerd, runc, cni, node
  /** Chart folders the bundle packs (charts/<name>-<version>.tgz), e.g. the lab's omstack-echo. */
  charts?: string[];
}

/** The bundle version: the omstack version, marked as a lab build of this Kubernetes. */
export function labVersion(omstackVersion: string, kubernetes: string | undefined): string {
  return `${omstackVersion}-lab${kubernetes ? `.k8s${kubernetes}` : ""}`;
}

/** The recipe YAML (no buildTime: the build stamps its own time, as a production build does). */
export function renderLabRecipe(input: LabRecipeInput): string {
  const fromImages = componentsFromImages(input.images);
  const components: Record<string, string> = { ...fromImages, ...input.extraComponents, omstack: input.omstackVersion };
  const sorted = Object.fromEntries(Object.entries(components).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const doc: Record<string, unknown> = {
    name: "omstack",
    version: labVersion(input.omstackVersion, fromImages.kubernetes),
    arch: "amd64",
    components: sorted,
    files: input.binaries.map((b) => ({ path: b.path, mode: "0755", source: b.source })),
    images: [...input.images].sort((a, b) => (a.name < b.name ? -1 : 1)).map((im) => ({ name: `${im.name}@${im.digest}` })),
  };
  if (input.charts?.length) doc.charts = input.charts.map((path) => ({ path }));
  if (input.packages.length > 0) doc.packages = { debian: input.packages.map((p) => ({ name: p.name, version: p.version, source: p.source })) };
  const head = "# Generated by tests/lab/bundle-recipe.ts (tests/lab/bundle.sh): the lab bundle, built from what tests/lab built. Do not edit.\n";
  return head + stringify(doc, { lineWidth: 0 });
}

/** The Debian packages a node needs for the runtime and kube-proxy/kubelet helpers. */
export const NODE_PACKAGES = ["containerd", "runc", "containernetworking-plugins", "conntrack", "socat", "iptables"];

function main(argv: string[]): void {
  const opt = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!;
    const v = argv[i + 1];
    if (!k.startsWith("--") || v === undefined) fail(`expected --option VALUE pairs, found "${k}"`);
    opt.set(k.slice(2), v);
  }
  const need = (k: string) => opt.get(k) ?? fail(`--${k} is required`);
  const images = parseImageLines(readFileSync(need("images"), "utf8"));
  const k8sBin = resolve(need("k8s-bin"));
  const rootfs = resolve(need("rootfs"));
  const debs = resolve(need("debs"));
  const omstackVersion = (JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }).version;
  const inputs: string[] = [];

  const binaries = ["kubeadm", "kubelet", "kubectl"].map((b) => {
    const source = join(k8sBin, b);
    if (!existsSync(source)) fail(`${source} is missing: run tests/lab/build-k8s.sh`);
    return { path: `bin/${b}`, source };
  });
  const app = opt.get("app");
  const node = opt.get("node");
  const extra: Record<string, string> = {};
  if (app && node) {
    binaries.push({ path: "app/omstack-app.tar", source: resolve(app) }, { path: "bin/node", source: resolve(node) });
    extra.node = process.version.replace(/^v/, "");
  }
  const helm = opt.get("helm");
  if (helm) {
    if (!existsSync(helm)) fail(`${helm} is missing: node scripts/fetch-helm.mjs prints the bundled helm's path`);
    binaries.push({ path: "bin/helm", source: resolve(helm) });
  }
  for (const b of binaries) inputs.push(b.source);
  const charts = (opt.get("charts") ?? "").split(",").filter(Boolean).map((c) => resolve(c));
  for (const c of charts) {
    if (!existsSync(join(c, "Chart.yaml"))) fail(`${c} is not a chart folder (no Chart.yaml)`);
    for (const f of readdirSync(c, { recursive: true, withFileTypes: true })) if (f.isFile()) inputs.push(join(f.parentPath, f.name));
  }

  const statusFile = join(rootfs, "var/lib/dpkg/status");
  if (!existsSync(statusFile)) fail(`${statusFile} is missing: --rootfs must be the lab rootfs (tests/lab/lab.sh rootfs builds it)`);
  const installed = parseDpkgStatus(readFileSync(statusFile, "utf8"));
  const { packages, missing } = packageClosure(installed, NODE_PACKAGES);
  if (missing.length) process.stderr.write(`bundle-recipe: not installed in the rootfs, left out: ${missing.join(", ")}\n`);
  const have = new Set(existsSync(debs) ? readdirSync(debs) : []);
  const links = resolve(need("deb-links"));
  rmSync(links, { recursive: true, force: true });
  mkdirSync(links, { recursive: true });
  const shipped: LabRecipeInput["packages"] = [];
  for (const p of packages) {
    const file = debCacheName(p);
    if (!have.has(file)) {
      process.stderr.write(`bundle-recipe: ${file} is not in ${debs}, ${p.name} left out of packages:\n`);
      continue;
    }
    const link = join(links, debBundleName(p));
    symlinkSync(join(debs, file), link);
    shipped.push({ name: p.name, version: p.version, source: link });
    inputs.push(link);
  }
  const ver = (n: string) => installed.get(n)?.version;
  for (const [k, n] of [["containerd", "containerd"], ["runc", "runc"], ["cni", "containernetworking-plugins"]] as const) {
    const v = ver(n);
    if (v) extra[k] = v;
  }
  writeFileSync(need("out"), renderLabRecipe({ omstackVersion, images, binaries, packages: shipped, extraComponents: extra, charts }));
  process.stdout.write(inputs.map((i) => `${i}\n`).join(""));
}

function fail(msg: string): never {
  process.stderr.write(`bundle-recipe: ${msg}\n`);
  process.exit(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    fail((e as Error).message);
  }
}
