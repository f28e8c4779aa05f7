// The web console in Debian's Chromium (playwright-core): log in, overview, upgrade with live progress,
// support bundle download, a viewer refused the Users page. Screenshots land in tests/.run/admin-console/.
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeSupport, FakeUpgrade } from "../../installer/src/admin/testing/fakes.js";
import { PASSWORDS, bundleArchive, makeApp } from "./helpers.js";

const SHOTS = join(process.cwd(), "tests/.run/admin-console");
let env: Awaited<ReturnType<typeof makeApp>>;
let base: string;
let context: BrowserContext;
let page: Page;
let profile: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  env = await makeApp({ upgrade: new FakeUpgrade({ stepMs: 400 }), support: new FakeSupport() });
  await env.app.listen({ host: "127.0.0.1", port: 0 });
  const addr = env.app.server.address();
  if (!addr || typeof addr === "string") throw new Error("no address");
  base = `http://127.0.0.1:${addr.port}`;
  profile = mkdtempSync(join(tmpdir(), "omstack-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1360, height: 860 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => {
    throw e;
  });
});

afterAll(async () => {
  await context?.close();
  await env?.cleanup();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function signIn(user: string, password: string) {
  await page.goto(base + "/");
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("#whoami");
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe("web console in Chromium", () => {
  it("refuses a wrong password with a readable message", async () => {
    await page.goto(base + "/");
    await page.fill("input[name=username]", "alice");
    await page.fill("input[name=password]", "not my password");
    await page.click("button[type=submit]");
    await expect(page.locator(".notice.error").textContent()).resolves.toContain("user name or password is wrong");
    await shot("login-refused");
  });

  it("logs in and shows the overview, nodes, services", async () => {
    await signIn("alice", PASSWORDS.admin);
    await page.waitForSelector("#overview-cards");
    expect(await page.locator("#whoami").textContent()).toBe("alice · admin");
    const cards = await page.locator("#overview-cards").innerText();
    expect(cards).toContain("3 / 3");
    expect(cards).toContain("Attention");
    await shot("overview");
    await page.click("a[data-page=nodes]");
    await page.waitForSelector("text=NVIDIA B200 × 2");
    expect(await page.locator("table").innerText()).toContain("Quadro RTX 4000 × 2");
    await shot("nodes");
    await page.click("a[data-page=services]");
    await page.waitForSelector("text=spark-operator");
    await shot("services");
  });

  it("uploads a bundle, reviews the diff, runs preflight and an upgrade with live progress", async () => {
    await page.click("a[data-page=upgrades]");
    await page.setInputFiles("#bundle-file", { name: "omstack-1.1.0.tar.gz", mimeType: "application/gzip", buffer: bundleArchive("1.1.0") });
    await page.click("#bundle-upload");
    await page.waitForSelector("button[data-bundle]");
    await page.click("button[data-bundle]");
    await page.waitForSelector("#start-upgrade");
    expect(await page.locator("#bundle-detail").innerText()).toContain("1.35.0");
    await page.click("#run-preflight");
    await page.waitForSelector("text=etcd is healthy");
    await page.click("#start-upgrade");
    await page.waitForSelector("#upgrade-steps li");
    await shot("upgrade-running");
    await page.waitForSelector("text=Upgrade finished successfully.", { timeout: 20_000 });
    expect(await page.locator("#upgrade-steps").innerText()).toContain("Upgrade the platform services");
    await page.reload();
    await page.waitForSelector("text=Run 1", { state: "detached" }).catch(() => undefined);
    await shot("upgrades");
  });

  it("downloads a support bundle", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#support-download")]);
    expect(download.suggestedFilename()).toMatch(/^omstack-support-.*\.tar\.gz$/);
    const file = await download.path();
    expect(statSync(file).size).toBeGreaterThan(200);
    expect(gunzipSync(readFileSync(file)).toString("latin1")).toContain("hostfacts/gpu-01.json");
  });

  it("shows the audit log and the users page", async () => {
    await page.click("a[data-page=audit]");
    await page.waitForSelector("text=support.downloaded");
    expect(await page.locator("table").innerText()).toContain("upgrade.finished");
    await shot("audit");
    await page.click("a[data-page=users]");
    await page.waitForSelector("text=victor");
    await shot("users");
  });

  it("refuses the Users page to a viewer", async () => {
    await page.click("#logout");
    await page.waitForSelector("input[name=username]");
    await signIn("victor", PASSWORDS.viewer);
    await page.goto(base + "/#/users");
    await page.waitForSelector("#refused");
    expect(await page.locator("#refused").innerText()).toContain("admin role");
    expect(await page.locator("#support-download").count()).toBe(0);
    await shot("users-refused-viewer");
  });
});
