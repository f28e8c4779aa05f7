// bench:bundle — (1) `omstack bundle verify` throughput vs `sha256sum` over the same bundle file, in the same run
// (target ≥ 0.9×); (2) fan-out of a bundle-sized file to 10 and 30 rate-limited SSH test hosts, relay vs parallel scp
// (target ≤ 0.35× at 30 hosts; bench-fanout.ts). Benchmarks that print figures, not tests.
// BENCH_BUNDLE_MB (default 2048) sets the verify bundle size; BENCH_REPS (default 3) the runs of each, best one counted;
// BENCH_FANOUT_MB (default 1024), BENCH_FANOUT_HOSTS (default 10,30), BENCH_LINK_MBIT (default 1000), BENCH_DISCARD=1;
// BENCH_ONLY=verify|fanout runs one half.
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { buildBundle } from "../../installer/src/bundle/build.js";
import { parseRecipe } from "../../installer/src/bundle/recipe.js";
import { verifyBundle } from "../../installer/src/bundle/verify.js";
import { fanoutBench } from "./bench-fanout.js";
import { keys, tempDir } from "./helpers.js";

const mb = Number(process.env.BENCH_BUNDLE_MB ?? 2048);
const reps = Number(process.env.BENCH_REPS ?? 3);

async function writeBig(path: string, bytes: number): Promise<void> {
  const block = randomBytes(16 * 1024 * 1024);
  const ws = createWriteStream(path);
  for (let left = bytes; left > 0; left -= block.length) {
    if (!ws.write(left >= block.length ? block : block.subarray(0, left))) await once(ws, "drain");
  }
  ws.end();
  await once(ws, "finish");
}

function sha256sum(file: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((res, rej) =>
    execFile("sha256sum", [file], (err) => (err ? rej(err) : res(Number(process.hrtime.bigint() - t0) / 1e9))),
  );
}

async function verifyBench(): Promise<void> {
  const dir = tempDir("omstack-bench-");
  try {
    const k = await keys(dir);
    // four files of a quarter each, so the bundle has several entries, like a real one
    const quarter = Math.floor((mb * 1024 * 1024) / 4);
    for (let i = 0; i < 4; i++) await writeBig(join(dir, `part${i}`), quarter);
    const recipe = parseRecipe(
      `version: 0.0.0-bench\nbuildTime: "2025-01-01T00:00:00Z"\nfiles:\n${[0, 1, 2, 3].map((i) => `  - path: packages/debian/part${i}\n    source: part${i}\n`).join("")}`,
      join(dir, "recipe.yaml"),
    );
    const t0 = Date.now();
    const built = await buildBundle({ recipe, key: k.priv, out: join(dir, "bench.tar"), env: {} });
    for (let i = 0; i < 4; i++) await rm(join(dir, `part${i}`));
    process.stdout.write(`bundle: ${(built.bytes / 2 ** 20).toFixed(0)} MiB, built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

    let bestSum = Infinity;
    let bestVerify = Infinity;
    for (let r = 0; r < reps; r++) {
      bestSum = Math.min(bestSum, await sha256sum(built.out));
      const t = process.hrtime.bigint();
      await verifyBundle(built.out, [k.pubKey]);
      bestVerify = Math.min(bestVerify, Number(process.hrtime.bigint() - t) / 1e9);
    }
    const mib = built.bytes / 2 ** 20;
    process.stdout.write(`sha256sum:      ${bestSum.toFixed(2)} s  (${(mib / bestSum).toFixed(0)} MiB/s)\n`);
    process.stdout.write(`bundle verify:  ${bestVerify.toFixed(2)} s  (${(mib / bestVerify).toFixed(0)} MiB/s)\n`);
    process.stdout.write(`ratio (verify throughput / sha256sum throughput): ${(bestSum / bestVerify).toFixed(2)}x  (target >= 0.90x; best of ${reps})\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A random file of `bytes` and its sha256, for the fan-out half. */
async function fanout(): Promise<void> {
  const dir = tempDir("omstack-bench-fanout-");
  try {
    const bytes = Number(process.env.BENCH_FANOUT_MB ?? 1024) * 2 ** 20;
    const file = join(dir, "bundle.tar");
    await writeBig(file, bytes);
    const hash = createHash("sha256");
    for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
    await fanoutBench(file, bytes, hash.digest("hex"), tmpdir(), (s) => process.stdout.write(s));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const only = process.env.BENCH_ONLY;
if (only !== "fanout") await verifyBench();
if (only !== "verify") await fanout();
