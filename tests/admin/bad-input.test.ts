// Every bad input the issue lists is refused with a clear {code, message, remedy} body, and nothing is applied.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bundleArchive, login, makeApp, type TestApp } from "./helpers.js";

let env: Awaited<ReturnType<typeof makeApp>>;
let app: TestApp;
let s: { cookie: string; csrf: string };
beforeEach(async () => {
  env = await makeApp({ limits: { uploadBytes: 64 * 1024, bodyBytes: 4096 } });
  app = env.app;
  s = await login(app, "alice");
});
afterEach(async () => env.cleanup());

const expectError = (res: { statusCode: number; json: () => unknown }, status: number, code: string) => {
  expect(res.statusCode).toBe(status);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ code, message: expect.any(String), remedy: expect.any(String) });
  expect((body.message as string).length).toBeGreaterThan(10);
  expect((body.remedy as string).length).toBeGreaterThan(10);
};
const bundleCount = () => (env.db.prepare("SELECT count(*) AS n FROM bundles").get() as { n: number }).n;
const auditOf = (action: string) => env.db.prepare("SELECT * FROM audit WHERE action = ? ORDER BY id").all(action) as { result: string; target: string; detail: string }[];

describe("JSON bodies", () => {
  it("refuses malformed JSON (400)", async () => {
    const res = await app.inject({ method: "POST", url: "/api/v1/session", headers: { "content-type": "application/json" }, payload: '{"username": "alice", "password": ' });
    expectError(res, 400, "E_ADMIN_MALFORMED_JSON");
  });

  it("refuses wrong types, missing and extra fields (400) without coercing", async () => {
    for (const payload of [{ username: 123, password: "x" }, { username: "alice" }, { username: "alice", password: "correct horse battery staple", admin: true }, [1, 2]]) {
      const res = await app.inject({ method: "POST", url: "/api/v1/session", payload: payload as object });
      expectError(res, 400, "E_ADMIN_BAD_REQUEST");
    }
    const r = await app.inject({ method: "PATCH", url: "/api/v1/settings", headers: { cookie: s.cookie, "x-csrf-token": s.csrf }, payload: { lockoutMinutes: "15" } });
    expectError(r, 400, "E_ADMIN_BAD_REQUEST");
    const q = await app.inject({ method: "GET", url: "/api/v1/audit?pageSize=100000", headers: { cookie: s.cookie } });
    expectError(q, 400, "E_ADMIN_BAD_REQUEST");
  });

  it("refuses an oversized JSON body (413)", async () => {
    const res = await app.inject({ method: "POST", url: "/api/v1/session", payload: { username: "alice", password: "x".repeat(10_000) } });
    expectError(res, 413, "E_ADMIN_BODY_TOO_LARGE");
  });

  it("refuses a body of an unsupported type (415)", async () => {
    const res = await app.inject({ method: "POST", url: "/api/v1/session", headers: { "content-type": "text/xml" }, payload: "<login/>" });
    expectError(res, 415, "E_ADMIN_UNSUPPORTED_MEDIA");
  });

  it("refuses a weak password for a new user and audits the failure", async () => {
    const res = await app.inject({ method: "POST", url: "/api/v1/users", headers: { cookie: s.cookie, "x-csrf-token": s.csrf }, payload: { name: "bob", role: "viewer", password: "short" } });
    expectError(res, 400, "E_ADMIN_WEAK_PASSWORD");
    expect(auditOf("user.created").at(-1)?.result).toBe("failure");
  });

  it("answers unknown routes with a 404 error body", async () => {
    expectError(await app.inject({ method: "GET", url: "/api/v1/nope", headers: { cookie: s.cookie } }), 404, "E_ADMIN_NOT_FOUND");
    expectError(await app.inject({ method: "GET", url: "/assets/..%2f..%2fapp.ts" }), 404, "E_ADMIN_NOT_FOUND");
  });
});

describe("bundle uploads", () => {
  const upload = (name: string, body: Buffer, headers: Record<string, string> = {}) =>
    app.inject({ method: "POST", url: `/api/v1/bundles/upload?name=${encodeURIComponent(name)}`, headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/octet-stream", ...headers }, payload: body });

  it("accepts and lists a verified bundle", async () => {
    const res = await upload("omstack-1.1.0.tar.gz", bundleArchive("1.1.0"));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: "omstack", version: "1.1.0", source: "upload" });
    expect(bundleCount()).toBe(1);
    expect(existsSync(join(env.stateDir, "bundles", "omstack-1.1.0.tar.gz"))).toBe(true);
  });

  it("refuses a truncated bundle (422): nothing listed, no file left, audited", async () => {
    const good = bundleArchive("1.1.0");
    const res = await upload("omstack-1.1.0.tar.gz", good.subarray(0, good.length - 30));
    expectError(res, 422, "E_ADMIN_BUNDLE_INVALID");
    expect(res.json().message).toMatch(/truncated/);
    expect(bundleCount()).toBe(0);
    expect(readdirSync(join(env.stateDir, "bundles"))).toEqual([]);
    expect(auditOf("bundle.uploaded").at(-1)).toMatchObject({ result: "failure" });
  });

  it("refuses a tampered bundle (422) naming the altered file", async () => {
    const res = await upload("omstack-1.1.0.tar.gz", bundleArchive("1.1.0", { tamper: true }));
    expectError(res, 422, "E_ADMIN_BUNDLE_INVALID");
    expect(res.json().message).toContain("images/platform.txt");
    expect(bundleCount()).toBe(0);
    expect(auditOf("bundle.uploaded").at(-1)?.result).toBe("failure");
  });

  it("refuses an oversized upload (413) and keeps nothing", async () => {
    const res = await upload("big.tar.gz", Buffer.alloc(70 * 1024, 7));
    expectError(res, 413, "E_ADMIN_BODY_TOO_LARGE");
    expect(bundleCount()).toBe(0);
    expect(existsSync(join(env.stateDir, "bundles")) ? readdirSync(join(env.stateDir, "bundles")) : []).toEqual([]);
    expect(auditOf("bundle.uploaded").at(-1)?.result).toBe("failure");
  });

  it("refuses path traversal in the file name (400)", async () => {
    for (const name of ["../../etc/passwd", "..", "a/b.tar.gz", ".hidden", "x..tar.gz"]) {
      const res = await upload(name, bundleArchive("1.1.0"));
      expectError(res, 400, "E_ADMIN_BAD_FILENAME");
    }
    expect(bundleCount()).toBe(0);
    expect(existsSync(join(env.stateDir, "..", "passwd"))).toBe(false);
  });

  it("refuses registering a relative or traversing path (400) and a missing file (404)", async () => {
    const reg = (path: string) => app.inject({ method: "POST", url: "/api/v1/bundles/register", headers: { cookie: s.cookie, "x-csrf-token": s.csrf }, payload: { path } });
    expectError(await reg("bundles/x.tar.gz"), 400, "E_ADMIN_BAD_FILENAME");
    expectError(await reg("/srv/../etc/shadow"), 400, "E_ADMIN_BAD_FILENAME");
    expectError(await reg("/nonexistent/omstack.tar.gz"), 404, "E_ADMIN_NOT_FOUND");
  });

  it("refuses uploads from a viewer (403) before reading the body", async () => {
    const v = await login(app, "victor");
    const res = await app.inject({ method: "POST", url: "/api/v1/bundles/upload?name=a.tar.gz", headers: { cookie: v.cookie, "x-csrf-token": v.csrf, "content-type": "application/octet-stream" }, payload: bundleArchive("1.1.0") });
    expectError(res, 403, "E_ADMIN_FORBIDDEN");
    expect(bundleCount()).toBe(0);
  });
});
