// `npm run bench:admin`: the shape of the OMStack paper's Fig. 5. With 100,000 audit records, 1,000 requests each
// to the paged audit list and the health summary at concurrency 10, 50 and 100 (autocannon, loopback only),
// next to a bare Fastify route as the ceiling. Prints p50/p99 latency and requests/s; target p99 ≤ 50 ms at 100.
// Latency is measured on open keep-alive connections (see bench-client.ts: the connect of each connection is reported
// apart). Each figure is the median of BENCH_REPS runs (default 3); the ratio column is p99 ÷ the bare route's p99 at the same
// concurrency in this run, and the load column the median 1-minute load average after each run (the machine is shared).
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { buildApp } from "../../installer/src/admin/app.js";
import { openStateDb } from "../../installer/src/admin/db/open.js";
import { hashPassword } from "../../installer/src/admin/auth/password.js";
import { UserStore } from "../../installer/src/admin/store/users.js";
import { writeClusterSnapshot } from "../../installer/src/admin/store/cluster.js";
import { demoSnapshot } from "../../installer/src/admin/testing/seed.js";
import type { ClientOptions, ClientResult } from "./bench-client.js";

/** The load generator (autocannon) runs in its own process so client and server do not share one event loop. */
const CLIENT = fileURLToPath(new URL("./bench-client.ts", import.meta.url));
function load(o: ClientOptions): Promise<ClientResult> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", CLIENT, JSON.stringify(o)], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as ClientResult))),
  );
}

const RECORDS = 100_000;
const REQUESTS = 1_000;
const CONCURRENCY = [10, 50, 100];
const TARGET_P99_MS = 50;
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const stateDir = mkdtempSync(join(tmpdir(), "omstack-admin-bench-"));
const db = openStateDb(stateDir);
writeClusterSnapshot(db, demoSnapshot(new Date()), new Date());
new UserStore(db).create("bench", "admin", await hashPassword("benchmark password"), new Date());
const insert = db.prepare("INSERT INTO audit (at, actor, action, target, ip, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
const actions = ["login", "login.failed", "user.created", "setting.changed", "support.downloaded", "upgrade.started"];
const t0 = Date.now();
db.transaction(() => {
  for (let i = 0; i < RECORDS; i++) insert.run(new Date(t0 - (RECORDS - i) * 1000).toISOString(), `user${i % 50}`, actions[i % actions.length], `target${i % 1000}`, "127.0.0.1", i % 7 ? "success" : "failure", null);
})();
process.stdout.write(`seeded ${RECORDS} audit records in ${Date.now() - t0} ms\n`);

const app = await buildApp({ db, stateDir, secureCookies: false, limits: { addressMaxFailures: 1000 } });
await app.listen({ host: "127.0.0.1", port: 0 });
const port = (app.server.address() as { port: number }).port;
const login = await fetch(`http://127.0.0.1:${port}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bench", password: "benchmark password" }) });
const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;

const bare = Fastify();
bare.get("/ping", async () => ({ ok: true }));
await bare.listen({ host: "127.0.0.1", port: 0 });
const barePort = (bare.server.address() as { port: number }).port;

const targets = [
  { name: "bare Fastify route (ceiling)", url: `http://127.0.0.1:${barePort}/ping`, headers: {} as Record<string, string> },
  { name: "GET /api/v1/audit?page=1&pageSize=50", url: `http://127.0.0.1:${port}/api/v1/audit?page=1&pageSize=50`, headers: { cookie } },
  { name: "GET /api/v1/audit filtered (action=login.failed, page 20)", url: `http://127.0.0.1:${port}/api/v1/audit?action=login.failed&page=20&pageSize=50`, headers: { cookie } },
  { name: "GET /api/v1/health", url: `http://127.0.0.1:${port}/api/v1/health`, headers: { cookie } },
];

// Warm up (JIT, connection setup) before measuring, as any steady-state benchmark does.
for (const t of targets) await load({ url: t.url, headers: t.headers, connections: 10, amount: 500 });

// Runs are interleaved (each repetition goes through every target at one concurrency) so the ceiling and the admin
// routes are measured under the same machine load.
type Run = { p50: number; p99: number; rps: number; connectP99: number; bad: number; load: number };
const results = new Map<string, Run[]>();
for (const c of CONCURRENCY) {
  for (let i = 0; i < REPS; i++) {
    for (const t of targets) {
      const r = await load({ url: t.url, headers: t.headers, connections: c, amount: REQUESTS });
      const key = `${t.name}@${c}`;
      const run = { p50: r.steady.p50, p99: r.steady.p99, rps: r.steady.requestsPerSecond, connectP99: r.connect.p99, bad: r.non2xx + r.errors + r.timeouts, load: loadavg()[0]! };
      results.set(key, [...(results.get(key) ?? []), run]);
    }
  }
}
const rows: string[] = [];
let missed = 0;
for (const t of targets) {
  for (const c of CONCURRENCY) {
    const runs = results.get(`${t.name}@${c}`)!;
    const p99 = median(runs.map((r) => r.p99));
    const bad = runs.reduce((n, r) => n + r.bad, 0);
    const bare = t.name.startsWith("bare");
    const ratio = bare ? "" : (p99 / Math.max(1, median(results.get(`${targets[0]!.name}@${c}`)!.map((r) => r.p99)))).toFixed(1) + "×";
    const mark = bare ? "" : c === 100 ? (p99 <= TARGET_P99_MS ? "  ok" : "  MISS") : "";
    if (mark === "  MISS" || bad > 0) missed++;
    rows.push(`${t.name.padEnd(58)} ${String(c).padStart(4)} ${String(median(runs.map((r) => r.p50))).padStart(7)} ${String(p99).padStart(7)} ${ratio.padStart(6)} ${String(Math.round(median(runs.map((r) => r.rps)))).padStart(7)} ${String(median(runs.map((r) => r.connectP99))).padStart(8)} ${String(bad).padStart(6)} ${median(runs.map((r) => r.load)).toFixed(1).padStart(5)}${mark}`);
  }
}
process.stdout.write(`\n${"target".padEnd(58)} ${"conc".padStart(4)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"÷bare".padStart(6)} ${"req/s".padStart(7)} ${"conn p99".padStart(8)} ${"errors".padStart(6)} ${"load".padStart(5)}\n${rows.join("\n")}\n`);
process.stdout.write(`\nmedian of ${REPS} run(s) of ${REQUESTS} requests each on open keep-alive connections (conn p99: the first request of each connection, timed from before its TCP connect); target: p99 ≤ ${TARGET_P99_MS} ms at concurrency 100 for the admin routes: ${missed ? `${missed} missed` : "met"}\n`);

await app.close();
await bare.close();
db.close();
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
