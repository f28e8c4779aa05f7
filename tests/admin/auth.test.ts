// Sessions, CSRF, roles, lockout and secret storage of the admin service, through inject().
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PASSWORDS, login, makeApp, type TestApp } from "./helpers.js";

let env: Awaited<ReturnType<typeof makeApp>>;
let app: TestApp;
beforeEach(async () => {
  env = await makeApp();
  app = env.app;
});
afterEach(async () => env.cleanup());

describe("session", () => {
  it("sets an HttpOnly SameSite=Strict cookie and returns a CSRF token", async () => {
    const res = await app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "alice", password: PASSWORDS.admin } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(body.user).toEqual({ name: "alice", role: "admin" });
    const cookie = String(res.headers["set-cookie"]);
    expect(cookie).toMatch(/^omstack_session=/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain("Secure");
  });

  it("marks the cookie Secure with the __Host- prefix when served over HTTPS", async () => {
    const secure = await makeApp({ secureCookies: true });
    try {
      const res = await secure.app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "alice", password: PASSWORDS.admin } });
      const cookie = String(res.headers["set-cookie"]);
      expect(cookie).toMatch(/^__Host-omstack_session=/);
      expect(cookie).toContain("Secure");
      expect(res.headers["strict-transport-security"]).toBeDefined();
    } finally {
      await secure.cleanup();
    }
  });

  it("logs out: the cookie no longer works", async () => {
    const s = await login(app, "alice");
    expect((await app.inject({ method: "GET", url: "/api/v1/session", headers: { cookie: s.cookie } })).statusCode).toBe(200);
    const out = await app.inject({ method: "DELETE", url: "/api/v1/session", headers: { cookie: s.cookie, "x-csrf-token": s.csrf } });
    expect(out.statusCode).toBe(200);
    const after = await app.inject({ method: "GET", url: "/api/v1/session", headers: { cookie: s.cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe("E_ADMIN_UNAUTHENTICATED");
  });

  it("refuses a wrong password and an unknown user with the same 401", async () => {
    for (const payload of [{ username: "alice", password: "not the password" }, { username: "mallory", password: "whatever at all" }]) {
      const res = await app.inject({ method: "POST", url: "/api/v1/session", payload });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: "E_ADMIN_LOGIN_FAILED", message: expect.any(String), remedy: expect.stringContaining("locked") });
    }
  });

  it("expires an idle session", async () => {
    let now = Date.now();
    const timed = await makeApp({ now: () => new Date(now) });
    try {
      const s = await login(timed.app, "alice");
      now += 31 * 60_000;
      const res = await timed.app.inject({ method: "GET", url: "/api/v1/health", headers: { cookie: s.cookie } });
      expect(res.statusCode).toBe(401);
    } finally {
      await timed.cleanup();
    }
  });
});

describe("lockout", () => {
  it("locks the account after 5 failures (429 even with the right password) and an admin can unlock it", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "victor", password: `wrong-${i}` } });
      expect(r.statusCode).toBe(401);
    }
    const locked = await app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "victor", password: PASSWORDS.viewer } });
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: "E_ADMIN_LOCKED", remedy: expect.stringContaining("reset-password") });
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    const a = await login(app, "alice");
    const un = await app.inject({ method: "PATCH", url: "/api/v1/users/victor", headers: { cookie: a.cookie, "x-csrf-token": a.csrf }, payload: { unlock: true } });
    expect(un.statusCode).toBe(200);
    expect(un.json().lockedUntil).toBeNull();
    await login(app, "victor");
  });

  it("refuses an address after too many failures across user names", async () => {
    const throttled = await makeApp({ limits: { addressMaxFailures: 3 } });
    try {
      for (const u of ["a1", "a2", "a3"]) {
        expect((await throttled.app.inject({ method: "POST", url: "/api/v1/session", payload: { username: u, password: "nope nope nope" } })).statusCode).toBe(401);
      }
      const r = await throttled.app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "alice", password: PASSWORDS.admin } });
      expect(r.statusCode).toBe(429);
      expect(r.json().code).toBe("E_ADMIN_LOCKED");
    } finally {
      await throttled.cleanup();
    }
  });
});

describe("CSRF and roles", () => {
  it("refuses a state-changing request without or with a wrong CSRF token (403) and audits it", async () => {
    const s = await login(app, "alice");
    const payload = { name: "newbie", role: "viewer", password: "a long enough password" };
    const none = await app.inject({ method: "POST", url: "/api/v1/users", headers: { cookie: s.cookie }, payload });
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ code: "E_ADMIN_CSRF", remedy: expect.stringContaining("x-csrf-token") });
    const wrong = await app.inject({ method: "POST", url: "/api/v1/users", headers: { cookie: s.cookie, "x-csrf-token": "x".repeat(43) }, payload });
    expect(wrong.statusCode).toBe(403);
    const other = await login(app, "oscar");
    const crossed = await app.inject({ method: "POST", url: "/api/v1/users", headers: { cookie: s.cookie, "x-csrf-token": other.csrf }, payload });
    expect(crossed.statusCode).toBe(403);
    const ok = await app.inject({ method: "POST", url: "/api/v1/users", headers: { cookie: s.cookie, "x-csrf-token": s.csrf }, payload });
    expect(ok.statusCode).toBe(201);
    const audit = env.db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'request.csrf_rejected'").get() as { n: number };
    expect(audit.n).toBe(3);
  });

  it("enforces roles per route: viewer reads, operator runs support, only admin manages users", async () => {
    const v = await login(app, "victor");
    const o = await login(app, "oscar");
    const a = await login(app, "alice");
    const get = (s: { cookie: string }, url: string) => app.inject({ method: "GET", url, headers: { cookie: s.cookie } });
    expect((await get(v, "/api/v1/health")).statusCode).toBe(200);
    const vu = await get(v, "/api/v1/users");
    expect(vu.statusCode).toBe(403);
    expect(vu.json()).toMatchObject({ code: "E_ADMIN_FORBIDDEN", message: expect.stringContaining("admin role") });
    expect((await get(v, "/api/v1/support-bundle")).statusCode).toBe(403);
    expect((await get(v, "/api/v1/audit")).statusCode).toBe(403);
    expect((await get(o, "/api/v1/users")).statusCode).toBe(403);
    expect((await get(o, "/api/v1/audit")).statusCode).toBe(200);
    expect((await get(a, "/api/v1/users")).statusCode).toBe(200);
    const patch = await app.inject({ method: "PATCH", url: "/api/v1/settings", headers: { cookie: o.cookie, "x-csrf-token": o.csrf }, payload: { lockoutMinutes: 5 } });
    expect(patch.statusCode).toBe(403);
  });

  it("keeps at least one admin", async () => {
    const a = await login(app, "alice");
    const r = await app.inject({ method: "PATCH", url: "/api/v1/users/alice", headers: { cookie: a.cookie, "x-csrf-token": a.csrf }, payload: { role: "viewer" } });
    expect(r.statusCode).toBe(409);
    expect(r.json().code).toBe("E_ADMIN_LAST_ADMIN");
  });

  it("requires a session for every API route (401)", async () => {
    for (const url of ["/api/v1/health", "/api/v1/nodes", "/api/v1/users", "/api/v1/audit", "/api/v1/bundles", "/api/v1/history", "/api/v1/support-bundle", "/api/v1/settings"]) {
      const r = await app.inject({ method: "GET", url, remoteAddress: "10.0.0.9" });
      expect(r.statusCode, url).toBe(401);
      expect(r.json()).toMatchObject({ code: "E_ADMIN_UNAUTHENTICATED", message: expect.any(String), remedy: expect.any(String) });
    }
  });
});

describe("secrets at rest", () => {
  it("stores neither passwords nor session or CSRF tokens in plain text, and the database is 0600", async () => {
    const s = await login(app, "alice");
    env.db.pragma("wal_checkpoint(TRUNCATE)");
    const file = join(env.stateDir, "admin.db");
    const bytes = readFileSync(file).toString("latin1");
    const token = decodeURIComponent(s.cookie.split("=")[1]!);
    for (const secret of [PASSWORDS.admin, PASSWORDS.operator, token, s.csrf]) expect(bytes.includes(secret)).toBe(false);
    const hash = (env.db.prepare("SELECT password_hash FROM users WHERE name='alice'").get() as { password_hash: string }).password_hash;
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    const { statSync } = await import("node:fs");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(env.stateDir).mode & 0o777).toBe(0o700);
    expect(env.db.pragma("journal_mode", { simple: true })).toBe("wal");
  });
});
