// The parts of `npm run lab` that need no lab: the filter that keeps the install's generated admin password out of
// every log, the scripts' refusals of bad input, and checks.sh's admin check against a real `omstack admin serve`
// on loopback (every path: no listener, answers without a session, logs in, wrong password).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HERE = new URL(".", import.meta.url).pathname;
const ROOT = join(HERE, "..", "..");
// a lab that is certainly down, whatever the machine's real lab is doing
const env = { ...process.env, OMSTACK_LAB_STATE: "/nonexistent/omstack-lab-test-state" };

function bash(script: string, input = "") {
  return spawnSync("bash", ["-c", script], { input, encoding: "utf8", env: { ...env, LAB: join(HERE, "lab.sh") } });
}
function run(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync("bash", args, { encoding: "utf8", env: { ...env, ...extraEnv }, timeout: 60_000 });
}

describe("keep_admin_password (lib.sh)", () => {
  const dir = mkdtempSync(join(tmpdir(), "lab-pw-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("moves the printed password into a 0600 file and leaves every other line as it was", () => {
    const file = join(dir, "admin-password");
    const input = 'lab1: admin.service: verified (4.6 s in all)\nadmin console user "admin", password s3cr-et_Val — shown once and stored nowhere\nkubeconfig: /x\nno newline at the end';
    const r = bash(`source ${HERE}/lib.sh; keep_admin_password ${file}`, input);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain("s3cr-et_Val");
    expect(r.stdout.split("\n")).toEqual([
      "lab1: admin.service: verified (4.6 s in all)",
      `admin console user "admin", password <saved to ${file}> — shown once and stored nowhere`,
      "kubeconfig: /x",
      "no newline at the end",
      "",
    ]);
    expect(readFileSync(file, "utf8")).toBe("s3cr-et_Val\n");
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("leaves an existing password file alone when the run prints no password (a re-run)", () => {
    const file = join(dir, "kept");
    writeFileSync(file, "earlier\n", { mode: 0o600 });
    const r = bash(`source ${HERE}/lib.sh; keep_admin_password ${file}`, "run 2 succeeded\n");
    expect(r.stdout).toBe("run 2 succeeded\n");
    expect(readFileSync(file, "utf8")).toBe("earlier\n");
  });
});

describe("bad input is refused with exit 2 and says what to do", () => {
  it.each([
    [["checks.sh", "bogus"], /unknown check 'bogus'; checks: nodes-ready system-pods node-labels workload dns admin/],
    [["checks.sh", "--deadline", "soon"], /--deadline must be whole seconds, found 'soon'/],
    [["checks.sh", "--plan", "/nonexistent/plan.json"], /cannot read the plan \/nonexistent\/plan.json/],
    [["checks.sh", "--frobnicate"], /unknown option --frobnicate/],
    [["run-lab.sh", "--frobnicate"], /unknown option '--frobnicate'/],
    [["run-lab.sh", "--lock-wait", "later"], /--lock-wait must be whole seconds, found 'later'/],
    [["run-lab.sh", "--bundle", "/nonexistent/b.tar"], /--bundle \/nonexistent\/b.tar: no such readable file/],
    [["faults.sh", "--state-dir", "/tmp/x"], /usage: tests\/lab\/faults.sh --state-dir DIR/],
    [["faults.sh", "--state-dir", "/tmp/x", "--only", "cni,nope", "--", "true"], /unknown fault 'nope' in --only; faults: containerd-config images kubeadm-init stop-lab3 join cni/],
  ])("%j", (args, message) => {
    const r = run([join(HERE, args[0]!), ...args.slice(1)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("checks.sh without a lab says the lab is down (exit 1)", () => {
    const r = run([join(HERE, "checks.sh"), "nodes-ready"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no lab nodes: the lab is down \(tests\/lab\/lab.sh up\)/);
  });
});

describe("checks.sh admin against a real admin service on loopback", () => {
  const dir = mkdtempSync(join(tmpdir(), "lab-admin-"));
  const port = 20000 + (process.pid % 20000);
  const url = `https://127.0.0.1:${port}`;
  const cli = ["--import", "tsx", join(ROOT, "installer/src/cli/main.ts")];
  let server: ReturnType<typeof spawn> | null = null;

  beforeAll(async () => {
    writeFileSync(join(dir, "pw"), "lab-test-password-123\n", { mode: 0o600 });
    writeFileSync(join(dir, "wrong"), "not-the-password-456\n", { mode: 0o600 });
    const created = spawnSync("node", [...cli, "admin", "create-user", "--state-dir", join(dir, "admin"), "--name", "admin", "--role", "admin", "--password-stdin"], {
      cwd: ROOT, input: "lab-test-password-123\n", encoding: "utf8",
    });
    expect(created.status, created.stderr).toBe(0);
    server = spawn("node", [...cli, "admin", "serve", "--state-dir", join(dir, "admin"), "--listen", `127.0.0.1:${port}`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("admin serve did not start in 60 s")), 60_000);
      const seen = (b: Buffer) => { if (b.toString().includes("listening")) { clearTimeout(timer); resolve(); } };
      server!.stdout!.on("data", seen);
      server!.stderr!.on("data", seen);
      server!.on("exit", (code) => reject(new Error(`admin serve exited ${code}`)));
    });
  });
  afterAll(() => {
    server?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = (u: string, ...args: string[]) =>
    run([join(HERE, "checks.sh"), "admin", ...args], { OMSTACK_LAB_ADMIN_URL: u, OMSTACK_LAB_ADMIN_DEADLINE: "2" });

  it("passes when it answers without a session (401 E_ADMIN_UNAUTHENTICATED)", () => {
    const r = admin(url);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[ok\] +admin .*answers over HTTPS \(401 E_ADMIN_UNAUTHENTICATED/);
  });

  it("logs in with the password file and reads /api/v1/health", () => {
    const r = admin(url, "--admin-password-file", join(dir, "pw"));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[ok\] +admin .*\/api\/v1\/health as admin: HTTP 200/);
    expect(r.stdout + r.stderr).not.toContain("lab-test-password-123");
  });

  it("fails with the service's reason on a wrong password", () => {
    const r = admin(url, "--admin-password-file", join(dir, "wrong"));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\[FAIL\] admin .*logging in as admin failed: HTTP 401 E_ADMIN_LOGIN_FAILED/);
  });

  it("fails clearly when nothing listens", () => {
    const r = admin(`https://127.0.0.1:${port + 1}`);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\[FAIL\] admin .*no answer on https:\/\/127.0.0.1:\d+ within 2 s \(curl: \(7\)/);
  });
});
