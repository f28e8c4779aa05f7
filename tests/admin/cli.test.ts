// `omstack admin serve | create-user | reset-password` end to end: HTTPS with a generated certificate,
// plain HTTP refused off loopback, users created from standard input and recovered with reset-password.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, describe, expect, it } from "vitest";
import { parseListen, serve } from "../../installer/src/admin/server.js";
import { OmstackError } from "../../installer/src/errors.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "omstack-admin-cli-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the real CLI entry through tsx, feeding `input` on standard input. */
async function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("npx", ["tsx", "installer/src/cli/main.ts", "--log-file", join(tmpdir(), `omstack-admin-cli-${process.pid}.log`), ...args], { cwd: process.cwd(), timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

describe("omstack admin (CLI)", () => {
  it("creates a user from stdin, refuses a duplicate and an empty password, resets a password", async () => {
    const dir = tmp();
    const ok = await cli(["admin", "create-user", "--state-dir", dir, "--name", "root-admin", "--role", "admin", "--password-stdin"], "a very long admin password\n");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("created admin root-admin");
    expect(ok.stdout + ok.stderr).not.toContain("a very long admin password");
    const dup = await cli(["admin", "create-user", "--state-dir", dir, "--name", "root-admin", "--role", "viewer", "--password-stdin"], "another long password\n");
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("E_ADMIN_USER_EXISTS");
    const empty = await cli(["admin", "create-user", "--state-dir", dir, "--name", "b", "--role", "viewer", "--password-stdin"], "");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("E_ADMIN_PASSWORD_INPUT");
    const badRole = await cli(["admin", "create-user", "--state-dir", dir, "--name", "b", "--role", "root", "--password-stdin"], "long enough password\n");
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain("--role must be one of viewer, operator, admin");
    const reset = await cli(["--output", "json", "admin", "reset-password", "--state-dir", dir, "--name", "root-admin"]);
    expect(reset.code, reset.stderr).toBe(0);
    const generated = JSON.parse(reset.stdout).password as string;
    expect(generated.length).toBeGreaterThanOrEqual(20);
    expect(statSync(join(dir, "admin.db")).mode & 0o777).toBe(0o600);
    // The generated password works against the service.
    const server = await serve({ stateDir: dir, listen: "127.0.0.1:0", insecureHttp: true });
    try {
      const res = await fetch(server.url + "/api/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root-admin", password: generated }) });
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  }, 120_000);

  it("serves HTTPS by default with a self-signed certificate generated into the state dir", async () => {
    const dir = tmp();
    const server = await serve({ stateDir: dir, listen: "127.0.0.1:0", insecureHttp: false });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(statSync(join(dir, "tls-admin.key")).mode & 0o777).toBe(0o600);
      const ca = readFileSync(join(dir, "tls-admin.crt"));
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(server.url + "/api/docs", { ca, servername: "localhost" }, (res) => {
          let text = "";
          res.on("data", (c) => (text += c));
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
      expect(JSON.parse(body).openapi).toMatch(/^3\./);
    } finally {
      await server.close();
    }
  });

  it("refuses plain HTTP off loopback and malformed listen addresses", async () => {
    const dir = tmp();
    await expect(serve({ stateDir: dir, listen: "0.0.0.0:0", insecureHttp: true })).rejects.toMatchObject({ code: "E_ADMIN_LISTEN", message: expect.stringContaining("loopback") });
    for (const bad of ["", "host", "1.2.3.4:99999", "[zz]:1", ":80"]) expect(() => parseListen(bad), bad).toThrow(OmstackError);
    expect(parseListen("[::1]:9443")).toEqual({ host: "::1", port: 9443 });
    expect(parseListen("9443")).toEqual({ host: "0.0.0.0", port: 9443 });
  });
});
