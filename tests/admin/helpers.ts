// Shared setup for the admin service tests: a temporary state dir, the demo cluster, three users, login helpers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { buildApp, type AdminDeps } from "../../installer/src/admin/app.js";
import { openStateDb, type StateDb } from "../../installer/src/admin/db/open.js";
import { hashPassword } from "../../installer/src/admin/auth/password.js";
import { UserStore } from "../../installer/src/admin/store/users.js";
import { writeClusterSnapshot } from "../../installer/src/admin/store/cluster.js";
import { demoSnapshot } from "../../installer/src/admin/testing/seed.js";
import { tarGz } from "../../installer/src/admin/services/tar-writer.js";

export const PASSWORDS = { admin: "correct horse battery staple", operator: "operator pass phrase 42", viewer: "viewer pass phrase 42" } as const;

export type TestApp = Awaited<ReturnType<typeof buildApp>>;

/** A fresh state dir with the demo cluster and users alice (admin), oscar (operator), victor (viewer). */
export async function makeApp(extra: Partial<Omit<AdminDeps, "db" | "stateDir">> = {}): Promise<{ app: TestApp; db: StateDb; stateDir: string; cleanup: () => Promise<void> }> {
  const stateDir = mkdtempSync(join(tmpdir(), "omstack-admin-test-"));
  const db = openStateDb(stateDir);
  writeClusterSnapshot(db, demoSnapshot(new Date()), new Date());
  const users = new UserStore(db);
  users.create("alice", "admin", await hashPassword(PASSWORDS.admin), new Date());
  users.create("oscar", "operator", await hashPassword(PASSWORDS.operator), new Date());
  users.create("victor", "viewer", await hashPassword(PASSWORDS.viewer), new Date());
  const app = await buildApp({ db, stateDir, secureCookies: false, ...extra });
  return {
    app,
    db,
    stateDir,
    cleanup: async () => {
      await app.close();
      db.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Logs in and returns the cookie header and CSRF token. */
export async function login(app: TestApp, username: keyof typeof USERS_BY_ROLE | string, password?: string): Promise<{ cookie: string; csrf: string; raw: string }> {
  const pw = password ?? PASSWORDS[roleOf(username)];
  const res = await app.inject({ method: "POST", url: "/api/v1/session", payload: { username, password: pw } });
  if (res.statusCode !== 200) throw new Error(`login of ${username} failed: ${res.statusCode} ${res.body}`);
  const setCookie = String(res.headers["set-cookie"]);
  const raw = setCookie.split(";")[0]!;
  return { cookie: raw, csrf: (res.json() as { csrfToken: string }).csrfToken, raw: setCookie };
}

export const USERS_BY_ROLE = { alice: "admin", oscar: "operator", victor: "viewer" } as const;
function roleOf(name: string): keyof typeof PASSWORDS {
  return (USERS_BY_ROLE as Record<string, keyof typeof PASSWORDS>)[name] ?? "admin";
}

/** A valid bundle archive (manifest + one file), and a way to make it invalid. */
export function bundleArchive(version: string, opts: { tamper?: boolean; components?: Record<string, string> } = {}): Buffer {
  const payload = `images for ${version}\n`;
  const files = { "images/platform.txt": createHash("sha256").update(payload).digest("hex") };
  const manifest = { name: "omstack", version, components: opts.components ?? { kubernetes: "1.35.0", jupyterhub: "4.1.6", "gpu-operator": "25.10.0" }, files };
  return tarGz([
    { path: "manifest.json", content: JSON.stringify(manifest) },
    { path: "images/platform.txt", content: opts.tamper ? payload.toUpperCase() : payload },
  ]);
}
