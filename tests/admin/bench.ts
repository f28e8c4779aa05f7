// `npm run bench:admin`: the shape of the OMStack paper's Fig. 5. With 100,000 audit records, 1,000 requests each
// to the paged audit list and the health summary at concurrency 10, 50 and 100 (autocannon, loopback only),
// next to a bare Fastify route as the ceiling. Prints p50/p99 latency and requests/s; target p99 ≤ 50 ms at 100.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import Fastify from "fastify";
import { buildApp } from "../../installer/src/admin/app.js";
import { openStateDb } from "../../installer/src/admin/db/open.js";
import { hashPassword } from "../../installer/src/admin/auth/password.js";
import { UserStore } from "../../installer/src/admin/store/users.js";
import { writeClusterSnapshot } from "../../installer/src/admin/store/cluster.js";
import { demoSnapshot } from "../../installer/src/admin/testing/seed.js";

/** autocannon runs in its own process so client and server do not share one event loop. */
const AUTOCANNON = join(createRequire(import.meta.url).resolve("autocannon"), "..", "autocannon.js");
interface Result { latency: { p50: number; p99: number }; duration: number; non2xx: number; errors: number; timeouts: number }
function autocannon(o: { url: string; headers: Record<string, string>; connections: number; amount: number }): Promise<Result> {
  const args = [AUTOCANNON, "--json", "--connections", String(o.connections), "--amount", String(o.amount), "--timeout", "30"];
  for (const [k, v] of Object.entries(o.headers)) args.push("--headers", `${k}=${v}`);
  args.push(o.url);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Result))),
  );
}

const RECORDS = 100_000;
const REQUESTS = 1_000;
const CONCURRENCY = [10, 50, 100];
const TARGET_P99_MS = 50;

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
for (const t of targets) await autocannon({ url: t.url, headers: t.headers, connections: 10, amount: 500 });

const rows: string[] = [];
let missed = 0;
for (const t of targets) {
  for (const c of CONCURRENCY) {
    const r = await autocannon({ url: t.url, headers: t.headers, connections: c, amount: REQUESTS });
    const bad = r.non2xx + r.errors + r.timeouts;
    const p99 = r.latency.p99;
    const mark = t.name.startsWith("bare") ? "" : c === 100 ? (p99 <= TARGET_P99_MS ? "  ok" : "  MISS") : "";
    if (mark === "  MISS" || bad > 0) missed++;
    rows.push(`${t.name.padEnd(58)} ${String(c).padStart(4)} ${String(r.latency.p50).padStart(8)} ${String(p99).padStart(8)} ${String(Math.round(REQUESTS / r.duration)).padStart(9)} ${String(bad).padStart(6)}${mark}`);
  }
}
process.stdout.write(`\n${"target".padEnd(58)} ${"conc".padStart(4)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"req/s".padStart(9)} ${"errors".padStart(6)}\n${rows.join("\n")}\n`);
process.stdout.write(`\ntarget: p99 ≤ ${TARGET_P99_MS} ms at concurrency 100 for the admin routes: ${missed ? `${missed} missed` : "met"}\n`);

await app.close();
await bare.close();
db.close();
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
