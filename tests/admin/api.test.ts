// The read and operate endpoints: health, nodes, services, versions, upgrades (SSE), history, support, audit, metrics, OpenAPI.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { list } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeSupport, FakeUpgrade } from "../../installer/src/admin/testing/fakes.js";
import { Value } from "typebox/value";
import { AuditPage } from "../../installer/src/admin/routes/audit.js";
import { bundleArchive, login, makeApp, type TestApp } from "./helpers.js";

let env: Awaited<ReturnType<typeof makeApp>>;
let app: TestApp;
let upgrade: FakeUpgrade;
let support: FakeSupport;
let a: { cookie: string; csrf: string };
beforeEach(async () => {
  upgrade = new FakeUpgrade({ stepMs: 5 });
  support = new FakeSupport();
  env = await makeApp({ upgrade, support });
  app = env.app;
  a = await login(app, "alice");
});
afterEach(async () => env.cleanup());

const get = (url: string, s = a) => app.inject({ method: "GET", url, headers: { cookie: s.cookie } });
const send = (method: "POST" | "PATCH" | "DELETE", url: string, payload?: object, s = a) => app.inject({ method, url, headers: { cookie: s.cookie, "x-csrf-token": s.csrf }, ...(payload ? { payload } : {}) });

describe("cluster views", () => {
  it("summarises health with per-node GPU/RDMA, certificates, etcd and the state dir", async () => {
    const r = (await get("/api/v1/health")).json();
    expect(r.light).toBe("amber"); // an RDMA port down on gpu-01, a degraded service, a certificate at 21 days
    const gpu01 = r.nodes.find((n: { name: string }) => n.name === "gpu-01");
    expect(gpu01.gpus).toEqual([{ model: "NVIDIA B200", count: 2 }]);
    expect(gpu01.rdma).toMatchObject({ ports: 3, active: 2, maxRateGbps: 200 });
    expect(gpu01.light).toBe("amber");
    expect(r.nodes.find((n: { name: string }) => n.name === "gpu-02").light).toBe("green");
    const cert = r.certificates.find((c: { name: string }) => c.name === "admin-console");
    expect(cert.light).toBe("amber");
    expect([20, 21]).toContain(cert.daysLeft);
    expect(r.etcd).toMatchObject({ light: "green", dbSizeBytes: 24_576_000 });
    expect(r.stateDir.dbBytes).toBeGreaterThan(0);
    expect(r.stateDir.totalBytes).toBeGreaterThan(0);
  });

  it("links services through the portal and reports versions and HostFacts", async () => {
    await send("PATCH", "/api/v1/settings", { portalUrl: "https://portal.lab" });
    const svc = (await get("/api/v1/services")).json().items;
    expect(svc.find((s: { name: string }) => s.name === "jupyterhub").uiUrl).toBe("https://portal.lab/jupyter/");
    expect((await get("/api/v1/versions")).json()).toMatchObject({ platform: "1.0.0", components: { kubernetes: "1.34.2" } });
    expect((await get("/api/v1/inventory")).json().items).toHaveLength(3);
    expect((await get("/api/v1/inventory/gpu-02")).json().gpuDriver.version).toBe("535.129.03");
    expect((await get("/api/v1/inventory/nope")).statusCode).toBe(404);
  });
});

describe("upgrades", () => {
  async function uploaded(version = "1.1.0") {
    const res = await app.inject({ method: "POST", url: `/api/v1/bundles/upload?name=omstack-${version}.tar.gz`, headers: { cookie: a.cookie, "x-csrf-token": a.csrf, "content-type": "application/octet-stream" }, payload: bundleArchive(version) });
    expect(res.statusCode).toBe(201);
    return res.json().id as number;
  }

  it("diffs, preflights, runs with SSE progress, records history and versions, audits start and finish", async () => {
    const id = await uploaded();
    const diff = (await get(`/api/v1/bundles/${id}/diff`)).json();
    expect(diff.changes).toContainEqual({ name: "kubernetes", from: "1.34.2", to: "1.35.0", change: "upgrade" });
    expect(diff.changes).toContainEqual({ name: "jupyterhub", from: "4.1.6", to: "4.1.6", change: "same" });
    expect(diff.changes).toContainEqual({ name: "minio", from: "RELEASE.2025-04-22T22-12-26Z", to: null, change: "remove" });
    const pre = (await send("POST", "/api/v1/upgrades/preflight", { bundleId: id })).json();
    expect(pre.ok).toBe(true);
    const start = await send("POST", "/api/v1/upgrades", { bundleId: id });
    expect(start.statusCode).toBe(202);
    const runId = start.json().runId;
    const again = await send("POST", "/api/v1/upgrades", { bundleId: id });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("E_ADMIN_UPGRADE_RUNNING");
    const sse = await get(`/api/v1/upgrades/${runId}/events`);
    expect(sse.headers["content-type"]).toContain("text/event-stream");
    const events = sse.body.split("\n\n").filter((b) => b.includes("event:")).map((b) => /event: (\S+)/.exec(b)![1]);
    expect(events[0]).toBe("run-start");
    expect(events.filter((e) => e === "step-done")).toHaveLength(3);
    expect(events.at(-1)).toBe("end");
    expect(sse.body).toContain('"status":"succeeded"');
    // Reconnecting with Last-Event-ID replays only what came after.
    const ids = [...sse.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const resumed = await app.inject({ method: "GET", url: `/api/v1/upgrades/${runId}/events`, headers: { cookie: a.cookie, "last-event-id": String(ids[ids.length - 2]) } });
    expect([...resumed.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([ids.at(-1)]);
    const run = (await get(`/api/v1/history/${runId}`)).json();
    expect(run).toMatchObject({ status: "succeeded", fromVersion: "1.0.0", toVersion: "1.1.0", startedBy: "alice" });
    expect(run.steps.map((x: { status: string }) => x.status)).toEqual(["done", "done", "done"]);
    expect(run.steps[0].log).toContain("bundle.distribute: working on omstack 1.1.0");
    expect((await get("/api/v1/versions")).json().platform).toBe("1.1.0");
    const actions = (env.db.prepare("SELECT action FROM audit WHERE action LIKE 'upgrade.%' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(["upgrade.started", "upgrade.started", "upgrade.finished"]);
    expect(upgrade.calls).toEqual([{ method: "preflight", version: "1.1.0" }, { method: "run", version: "1.1.0" }]);
  });

  it("records a rolled-back upgrade as such", async () => {
    await env.cleanup();
    env = await makeApp({ upgrade: new FakeUpgrade({ stepMs: 1, failAt: "k8s.upgrade-control-plane", rolledBack: true }) });
    app = env.app;
    a = await login(app, "alice");
    const id = await uploaded("1.2.0");
    const runId = (await send("POST", "/api/v1/upgrades", { bundleId: id })).json().runId;
    await app.ctx.upgrades.settled();
    const run = (await get(`/api/v1/history/${runId}`)).json();
    expect(run.status).toBe("rolled_back");
    expect(run.steps.map((x: { status: string }) => x.status)).toEqual(["done", "failed"]);
    expect((await get("/api/v1/versions")).json().platform).toBe("1.0.0");
    expect((env.db.prepare("SELECT result FROM audit WHERE action = 'upgrade.rolled_back'").get() as { result: string }).result).toBe("failure");
  });

  it("says so when no upgrade engine is connected (503)", async () => {
    await env.cleanup();
    env = await makeApp();
    app = env.app;
    a = await login(app, "alice");
    const id = await uploaded();
    const r = await send("POST", "/api/v1/upgrades", { bundleId: id });
    expect(r.statusCode).toBe(503);
    expect(r.json().code).toBe("E_ADMIN_UPGRADE_UNAVAILABLE");
  });
});

describe("support bundle", () => {
  it("downloads a tar.gz with the journal, HostFacts, cluster state and host files, and audits it", async () => {
    const o = await login(app, "oscar");
    const res = await get("/api/v1/support-bundle", o);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-disposition"]).toMatch(/attachment; filename="omstack-support-.*\.tar\.gz"/);
    const dir = mkdtempSync(join(tmpdir(), "omstack-support-"));
    const file = join(dir, "b.tar.gz");
    writeFileSync(file, res.rawPayload);
    const names: string[] = [];
    await list({ file, onReadEntry: (e) => names.push(e.path.split("/").slice(1).join("/")) });
    expect(names).toEqual(expect.arrayContaining(["journal/runs.json", "hostfacts/gpu-01.json", "cluster/state.json", "hosts/gpu-01/nvidia-smi-q.txt", "README.txt"]));
    expect(support.calls).toBe(1);
    const entry = env.db.prepare("SELECT * FROM audit WHERE action = 'support.downloaded'").get() as { actor: string; result: string; ip: string };
    expect(entry).toMatchObject({ actor: "oscar", result: "success", ip: "127.0.0.1" });
  });
});

describe("audit log", () => {
  it("records who/what/when/where/result for logins, failures, user and setting changes", async () => {
    await app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "alice", password: "wrong password!" }, remoteAddress: "192.0.2.7" });
    await send("POST", "/api/v1/users", { name: "bob", role: "viewer", password: "bob's long password" });
    await send("PATCH", "/api/v1/settings", { lockoutMinutes: 30 });
    const r = (await get("/api/v1/audit?pageSize=10")).json();
    const byAction = (x: string) => r.items.find((e: { action: string }) => e.action === x);
    expect(byAction("login")).toMatchObject({ actor: "alice", result: "success", ip: "127.0.0.1" });
    expect(byAction("login.failed")).toMatchObject({ actor: "alice", result: "failure", ip: "192.0.2.7", detail: { reason: "wrong password" } });
    expect(byAction("user.created")).toMatchObject({ actor: "alice", target: "bob", detail: { role: "viewer" } });
    expect(byAction("setting.changed")).toMatchObject({ target: "lockoutMinutes", detail: { from: 15, to: 30 } });
    expect(Date.parse(byAction("login").at)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(r)).not.toContain("bob's long password");
  });

  it("is append-only: the database refuses UPDATE and DELETE", () => {
    expect(() => env.db.prepare("UPDATE audit SET result = 'success'").run()).toThrow(/append-only/);
    expect(() => env.db.prepare("DELETE FROM audit").run()).toThrow(/append-only/);
  });

  it("pages, filters and exports as JSON lines", async () => {
    for (let i = 0; i < 7; i++) app.ctx.audit.append({ actor: "bot", action: i % 2 ? "upgrade.started" : "setting.changed", target: `t${i}`, ip: "127.0.0.1", result: "success", detail: null });
    const p1 = (await get("/api/v1/audit?actor=bot&pageSize=3&page=1")).json();
    const p3 = (await get("/api/v1/audit?actor=bot&pageSize=3&page=3")).json();
    expect(p1).toMatchObject({ total: 7, page: 1, pageSize: 3 });
    expect(p1.items.map((e: { target: string }) => e.target)).toEqual(["t6", "t5", "t4"]);
    expect(p3.items.map((e: { target: string }) => e.target)).toEqual(["t0"]);
    expect((await get("/api/v1/audit?action=upgrade.*&actor=bot")).json().total).toBe(3);
    const exp = await get("/api/v1/audit/export?actor=bot");
    expect(exp.headers["content-type"]).toContain("application/x-ndjson");
    const lines = exp.body.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((e) => e.target)).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    expect((await get("/api/v1/audit?action=audit.exported")).json().total).toBe(1);
  });
});

describe("audit list: the body SQLite renders, and the cursor", () => {
  it("answers with a body that matches the documented AuditPage schema, detail objects included", async () => {
    app.ctx.audit.append({ actor: "bot", action: "setting.changed", target: "portalUrl", ip: "127.0.0.1", result: "success", detail: { from: "", to: 'https://portal/"x"\n', n: [1, null] } });
    const res = await get("/api/v1/audit?pageSize=5");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    const body = res.json();
    expect(Value.Errors(AuditPage, body)).toEqual([]);
    expect(body.items[0]).toMatchObject({ actor: "bot", detail: { from: "", to: 'https://portal/"x"\n', n: [1, null] } });
    expect(body).toMatchObject({ page: 1, pageSize: 5 });
  });

  it("walks by the `next` cursor through the same entries as by page number, and ends with next = null", async () => {
    for (let i = 0; i < 11; i++) app.ctx.audit.append({ actor: "bot", action: "upgrade.started", target: `t${i}`, ip: "127.0.0.1", result: "success", detail: null });
    const pages = [1, 2, 3].map(async (p) => (await get(`/api/v1/audit?actor=bot&pageSize=4&page=${p}`)).json());
    const byPage = (await Promise.all(pages)).flatMap((p) => p.items.map((e: { target: string }) => e.target));
    const byCursor: string[] = [];
    let url = "/api/v1/audit?actor=bot&pageSize=4";
    for (;;) {
      const r = (await get(url)).json();
      expect(r.total).toBe(11);
      byCursor.push(...r.items.map((e: { target: string }) => e.target));
      if (r.next === null) break;
      url = `/api/v1/audit?actor=bot&pageSize=4&before=${r.next}`;
    }
    expect(byCursor).toEqual(byPage);
    expect(byCursor).toEqual(["t10", "t9", "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"]);
  });

  it("refuses a cursor that is not a positive integer (400)", async () => {
    for (const before of ["0", "-3", "abc", "9007199254740993"]) {
      const r = await get(`/api/v1/audit?before=${before}`);
      expect(r.statusCode, before).toBe(400);
      expect(r.json().code).toBe("E_ADMIN_BAD_REQUEST");
    }
  });
});

describe("metrics and OpenAPI", () => {
  it("serves Prometheus metrics to loopback scrapers and refuses remote ones without a session", async () => {
    const local = await app.inject({ method: "GET", url: "/metrics" });
    expect(local.statusCode).toBe(200);
    expect(local.body).toMatch(/omstack_admin_logins_total\{result="success"\} 1/);
    expect(local.body).toMatch(/omstack_admin_users 3/);
    const remote = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "192.0.2.8" });
    expect(remote.statusCode).toBe(401);
  });

  it("publishes an OpenAPI document listing the versioned routes", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/docs" })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ["/api/v1/session", "/api/v1/health", "/api/v1/audit", "/api/v1/audit/export", "/api/v1/bundles/upload", "/api/v1/upgrades", "/api/v1/upgrades/{id}/events", "/api/v1/support-bundle", "/api/v1/users/{name}"]) expect(Object.keys(doc.paths)).toContain(p);
  });
});
