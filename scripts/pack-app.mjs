#!/usr/bin/env node
// Packs the omstack app as one deterministic tar holding a self-contained folder `omstack/`: package.json, bin/,
// the compiled installer (with the admin console's files), services/, and the production node_modules only.
// The bundle carries it as app/omstack-app.tar; `admin.app` unpacks it on the first control-plane node.
//
//   node scripts/pack-app.mjs --out FILE [--dist DIR]
//
// --dist DIR  use an already compiled installer/dist instead of compiling into the staging folder (tsc, ~1 min).
//
// node_modules: the production closure is read from package-lock.json (every installed package flagged neither `dev`
// nor `devOptional` — `npm ci --omit=dev` less the optional type packages a devDependency pulled in) and copied from
// this checkout's node_modules, so the native
// better-sqlite3 built here (Debian 12, this Node ABI) is the one shipped, with no network and no install scripts.
// better-sqlite3's build leftovers (C sources, object files, static library) are dropped; its .node addon stays.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as tar from "tar";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Every entry in the tarball carries this mtime (2020-01-01T00:00:00Z), so two packs of one tree are byte-identical. */
const FIXED_MTIME = new Date(Date.UTC(2020, 0, 1));
/** Files of a package that the running app never reads (build leftovers), by package path in the lock. */
const PRUNE = {
  "node_modules/better-sqlite3": ["deps", "src", "build/Release/obj", "build/Release/obj.target", "build/Release/.deps", "build/Release/sqlite3.a", "build/Release/test_extension.node", "build/deps", "build/Makefile", "build/config.gypi", "build/binding.Makefile", "build/better_sqlite3.target.mk", "build/test_extension.target.mk", "build/node_gyp_bins"],
};

function fail(message, fix) {
  process.stderr.write(`pack-app: ${message}\n  fix: ${fix}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { out: null, dist: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out" || a === "--dist") {
      const v = argv[++i];
      if (!v) fail(`${a} needs a value`, `node scripts/pack-app.mjs --out /tmp/omstack-app.tar`);
      out[a.slice(2)] = resolve(v);
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node scripts/pack-app.mjs --out FILE [--dist DIR]\n");
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)}`, "usage: node scripts/pack-app.mjs --out FILE [--dist DIR]");
  }
  if (!out.out) fail("--out FILE is required", "node scripts/pack-app.mjs --out /tmp/omstack-app.tar");
  return out;
}

/** Paths (under the root) of the lock's production packages, sorted. */
export function productionPackages(lock) {
  if (lock.lockfileVersion !== 2 && lock.lockfileVersion !== 3) fail(`package-lock.json has lockfileVersion ${lock.lockfileVersion}; version 2 or 3 is required`, "regenerate it with npm 7 or newer (npm install)");
  const out = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    // devOptional: in the tree for a devDependency and only optional for the rest (e.g. @types/react as ink's optional peer)
    if (!path.startsWith("node_modules/") || entry.dev || entry.devOptional || entry.link || entry.extraneous) continue;
    out.push(path);
  }
  return out.sort();
}

/** Copies a tree with lstat semantics (symlinks stay links); skips nested node_modules (listed separately in the lock). */
function copyTree(src, dest, skip) {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dest);
    return;
  }
  if (st.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const name of readdirSync(src)) {
      const rel = join(src, name);
      if (skip(rel)) continue;
      copyTree(rel, join(dest, name), skip);
    }
    return;
  }
  if (st.isFile()) {
    copyFileSync(src, dest);
    chmodSync(dest, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Every path under `root` (relative, '/'-separated), sorted bytewise; modes normalised to 0755/0644. */
function listSorted(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      out.push(relative(root, p).split(sep).join("/"));
      if (st.isDirectory()) {
        chmodSync(p, 0o755);
        walk(p);
      }
    }
  };
  walk(root);
  return out.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
}

async function sha256File(path) {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c);
  return h.digest("hex");
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  const staging = mkdtempSync(join(tmpdir(), "omstack-pack-"));
  try {
    const app = join(staging, "omstack");
    mkdirSync(join(app, "bin"), { recursive: true });

    // The compiled CLI: either a given dist or compiled here (into staging, so a shared checkout's dist is left alone).
    const dist = join(app, "installer", "dist");
    if (args.dist) {
      if (!existsSync(join(args.dist, "cli", "main.js"))) fail(`--dist ${args.dist} holds no cli/main.js`, "build it first (npx tsc -p tsconfig.build.json) or leave out --dist to compile here");
      copyTree(args.dist, dist, (p) => p.endsWith(".map") || p.endsWith(".tsbuildinfo"));
    } else {
      try {
        execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", dist, "--sourceMap", "false"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
      } catch {
        fail("the TypeScript build failed (output above)", "fix the type errors, then pack again");
      }
    }
    // tsc does not copy the console's static files; webRoot() looks for them beside the compiled admin module.
    copyTree(join(ROOT, "installer", "src", "admin", "web"), join(dist, "admin", "web"), () => false);
    if (existsSync(join(ROOT, "services"))) copyTree(join(ROOT, "services"), join(app, "services"), () => false);

    copyFileSync(join(ROOT, "bin", "omstack.js"), join(app, "bin", "omstack.js"));
    chmodSync(join(app, "bin", "omstack.js"), 0o755);
    // No scripts (prepare would compile), no devDependencies: this folder only runs.
    const appPkg = { name: pkg.name, version: pkg.version, description: pkg.description, type: pkg.type, private: true, license: pkg.license, engines: pkg.engines, bin: pkg.bin, dependencies: pkg.dependencies };
    writeFileSync(join(app, "package.json"), JSON.stringify(appPkg, null, 2) + "\n");
    copyFileSync(join(ROOT, "package-lock.json"), join(app, "package-lock.json"));

    const packages = productionPackages(lock);
    const missing = [];
    for (const rel of packages) {
      const src = join(ROOT, rel);
      if (!existsSync(src)) {
        if (lock.packages[rel].optional) continue; // an optional dependency not built for this platform
        missing.push(rel);
        continue;
      }
      const prune = (PRUNE[rel] ?? []).map((p) => join(src, p));
      copyTree(src, join(app, rel), (p) => p === join(src, "node_modules") || p.endsWith(`${sep}node_modules${sep}.bin`) || prune.includes(p));
    }
    if (missing.length) fail(`production packages listed in package-lock.json are not installed: ${missing.join(", ")}`, "run `npm ci` in the checkout first");
    if (!existsSync(join(app, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node"))) {
      fail("better-sqlite3's native addon (build/Release/better_sqlite3.node) is missing", "run `npm rebuild better-sqlite3` (install scripts allowed) in the checkout, then pack again");
    }

    const entries = listSorted(staging);
    mkdirSync(dirname(args.out), { recursive: true });
    await tar.c({ cwd: staging, file: args.out, portable: true, mtime: FIXED_MTIME, noDirRecurse: true, strict: true }, entries);
    const size = statSync(args.out).size;
    const sha256 = await sha256File(args.out);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    process.stdout.write(`${args.out}\n  entries ${entries.length}, packages ${packages.length}, size ${size} bytes (${(size / 1024 / 1024).toFixed(1)} MiB), packed in ${seconds} s\n  sha256 ${sha256}\n`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
