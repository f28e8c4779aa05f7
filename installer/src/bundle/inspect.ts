// What `bundle inspect` shows: a summary computed from bundle.json alone (pure), and its human rendering.
import type { BundleManifest } from "./manifest.js";
import { totalSize } from "./manifest.js";
import type { BundleSignature } from "./sign.js";

/** The inspect result (the JSON form of `bundle inspect`). */
export interface BundleSummary {
  name: string;
  version: string;
  arch: string;
  buildTime: string;
  formatVersion: number;
  delta: { fromVersion: string; fromManifestSha256: string; inheritedFiles: number; inheritedBytes: number } | null;
  signature: { keyId: string; checked: false } | null;
  components: Record<string, string>;
  totals: { files: number; bytes: number; images: number; charts: number; packages: number };
  sizes: Record<string, number>; // bytes per top-level folder
  images: BundleManifest["images"];
  charts: BundleManifest["charts"];
  packages: BundleManifest["packages"];
}

/** Summarizes a manifest; the signature is reported as present but not checked (that is `verify`'s job). */
export function summarize(m: BundleManifest, sig: BundleSignature | null): BundleSummary {
  const sizes: Record<string, number> = {};
  for (const f of m.files) {
    const top = f.path.split("/")[0]!;
    sizes[top] = (sizes[top] ?? 0) + f.size;
  }
  return {
    name: m.name,
    version: m.version,
    arch: m.arch,
    buildTime: m.buildTime,
    formatVersion: m.formatVersion,
    delta: m.delta
      ? {
          fromVersion: m.delta.fromVersion,
          fromManifestSha256: m.delta.fromManifestSha256,
          inheritedFiles: m.delta.inherited.length,
          inheritedBytes: m.delta.inherited.reduce((n, f) => n + f.size, 0),
        }
      : null,
    signature: sig ? { keyId: sig.keyId, checked: false } : null,
    components: m.components,
    totals: {
      files: m.files.length,
      bytes: totalSize(m),
      images: m.images.length,
      charts: m.charts.length,
      packages: Object.values(m.packages).reduce((n, l) => n + l.length, 0),
    },
    sizes,
    images: m.images,
    charts: m.charts,
    packages: m.packages,
  };
}

/** Bytes as a short human string (KiB, MiB, GiB). */
export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The table form of `bundle inspect`. */
export function renderSummary(s: BundleSummary): string {
  const out = [
    `bundle     ${s.name} ${s.version} (${s.arch})${s.delta ? `, delta from ${s.delta.fromVersion}` : ""}`,
    `built      ${s.buildTime}`,
    `format     ${s.formatVersion}`,
    `signature  ${s.signature ? `present, key ${s.signature.keyId} (not checked here: run \`omstack bundle verify\`)` : "NONE: this bundle is unsigned and will be refused"}`,
    `size       ${humanBytes(s.totals.bytes)} in ${s.totals.files} files`,
  ];
  if (s.delta) out.push(`inherits   ${s.delta.inheritedFiles} files (${humanBytes(s.delta.inheritedBytes)}) from ${s.delta.fromVersion} (bundle.json sha256 ${s.delta.fromManifestSha256.slice(0, 16)}…)`);
  for (const [dir, n] of Object.entries(s.sizes).sort()) out.push(`  ${(dir + "/").padEnd(10)} ${humanBytes(n)}`);
  if (Object.keys(s.components).length) {
    out.push("components");
    for (const [k, v] of Object.entries(s.components)) out.push(`  ${k.padEnd(12)} ${v}`);
  }
  out.push(`images (${s.images.length})`);
  for (const i of s.images) out.push(`  ${i.name}  ${i.digest.slice(0, 19)}  ${i.platform}  ${humanBytes(i.size)}`);
  out.push(`charts (${s.charts.length})`);
  for (const c of s.charts) out.push(`  ${c.name} ${c.version}${c.appVersion ? ` (app ${c.appVersion})` : ""}`);
  const fams = Object.entries(s.packages);
  out.push(`packages (${s.totals.packages})`);
  for (const [fam, list] of fams) for (const p of list) out.push(`  ${fam}: ${p.name} ${p.version}`);
  return out.join("\n") + "\n";
}
