// The health probe admin.service runs on the node, run here for real against the admin service over HTTPS
// (self-signed certificate from openssl): up = 401 without a session; nothing listening = exit 1 after the deadline.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { serve } from "../../admin/server.js";
import { healthProbeScript } from "./service.js";
import { APP_CURRENT, NODE_IN_RELEASE } from "./layout.js";

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The probe's shell line with this machine's node in place of the node's installed one. */
async function probe(port: number, deadlineMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const line = healthProbeScript("127.0.0.1", port, deadlineMs).replace(`${APP_CURRENT}/${NODE_IN_RELEASE}`, process.execPath);
  return run("sh", ["-c", line], { timeout: deadlineMs + 20_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("admin.service health probe", () => {
  it("accepts the running service (HTTPS, self-signed, 401 without a session)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "omstack-probe-"));
    dirs.push(dir);
    const server = await serve({ stateDir: dir, listen: "127.0.0.1:0", insecureHttp: false });
    try {
      const port = Number(new URL(server.url).port);
      const r = await probe(port, 10_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`HTTP 401 from https://127.0.0.1:${port}/api/v1/health`);
    } finally {
      await server.close();
    }
  });

  it("gives up after its deadline when nothing answers, saying why", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await probe(port, 1500);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`no answer from https://127.0.0.1:${port}/api/v1/health: .*ECONNREFUSED`));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
  });
});
