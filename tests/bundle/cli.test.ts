// The commands as a user runs them (the built CLI in a child process): exit codes, output, and error lines.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, TEST_RECIPE, tempDir } from "./helpers.js";

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = tempDir("omstack-cli-");
  const kg = await cli(["bundle", "keygen", "--out", join(dir, "KEY")]);
  expect(kg.code, kg.stderr).toBe(0);
  bundle = join(dir, "omstack-0.0.0-test-amd64.tar");
  const b = await cli(["bundle", "build", "--recipe", TEST_RECIPE, "--key", join(dir, "KEY"), "--out", bundle]);
  expect(b.code, b.stderr).toBe(0);
});

describe("omstack bundle (CLI)", () => {
  it("keygen writes KEY 0600 and KEY.pub", () => {
    expect(statSync(join(dir, "KEY")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "KEY.pub"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it("verify prints ok and exits 0 with the right key", async () => {
    const r = await cli(["bundle", "verify", bundle, "--trust", join(dir, "KEY.pub")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: .* is omstack 0\.0\.0-test, signed by key [0-9a-f]{16}; 9 files/);
  });

  it("verify uses the trust folder when --trust is absent, and says so when it is empty", async () => {
    const trustDir = tempDir("omstack-trust-");
    const none = await cli(["bundle", "verify", bundle], { OMSTACK_TRUST_DIR: trustDir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no \*\.pub keys in .* \[E_BUNDLE_UNTRUSTED\]\n  fix: pass the publisher's public key/);
    writeFileSync(join(trustDir, "publisher.pub"), readFileSync(join(dir, "KEY.pub")));
    const ok = await cli(["bundle", "verify", bundle], { OMSTACK_TRUST_DIR: trustDir });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("verify exits 1 naming the damaged file", async () => {
    const b = Buffer.from(readFileSync(bundle));
    const at = b.indexOf("hello from the omstack test bundle");
    b[at] = "J".charCodeAt(0);
    const bad = join(dir, "bad.tar");
    writeFileSync(bad, b);
    const r = await cli(["bundle", "verify", bad, "--trust", join(dir, "KEY.pub")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*bad\.tar: "bin\/omstack-hello" has sha256 [0-9a-f]{64}; bundle.json says [0-9a-f]{64} \[E_BUNDLE_CHECKSUM\]/);
  });

  it("inspect prints versions, sizes, images and charts, as a table and as JSON", async () => {
    const t = await cli(["bundle", "inspect", bundle]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/bundle +omstack 0\.0\.0-test \(amd64\)/);
    expect(t.stdout).toContain("omstack.local/test/hello:1.0");
    expect(t.stdout).toContain("omstack-test 0.1.0 (app 1.0)");
    const j = await cli(["--output", "json", "bundle", "inspect", bundle]);
    const s = JSON.parse(j.stdout) as { version: string; totals: { files: number; images: number }; signature: { keyId: string } };
    expect(s).toMatchObject({ version: "0.0.0-test", totals: { files: 9, images: 1 } });
    expect(s.signature.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("diff lists what changed between two builds", async () => {
    const recipe2 = join(dir, "recipe2.yaml");
    const text = readFileSync(TEST_RECIPE, "utf8")
      .replace("version: 0.0.0-test", "version: 0.0.1-test")
      .replace('echo "hello from the omstack test bundle"', 'echo "hello again"')
      .replace("../images/hello", join(TEST_RECIPE, "../../images/hello"))
      .replace("../charts/omstack-test", join(TEST_RECIPE, "../../charts/omstack-test"));
    writeFileSync(recipe2, text);
    const b2 = join(dir, "b2.tar");
    const b = await cli(["bundle", "build", "--recipe", recipe2, "--key", join(dir, "KEY"), "--out", b2]);
    expect(b.code, b.stderr).toBe(0);
    const d = await cli(["bundle", "diff", bundle, b2]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/omstack 0\.0\.0-test \(amd64\) → omstack 0\.0\.1-test \(amd64\)/);
    expect(d.stdout).toMatch(/~ bin\/omstack-hello 92 B → \d+ B/);
    const j = await cli(["-o", "json", "bundle", "diff", bundle, bundle]);
    expect(JSON.parse(j.stdout)).toMatchObject({ identical: true });
  });

  it("build refuses a bad recipe with its location, exit 2", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "version: 1.0\nimages:\n  - name: nginx:1.27\n");
    const r = await cli(["bundle", "build", "--recipe", bad, "--key", join(dir, "KEY"), "--out", join(dir, "x.tar")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:3:\d+: images\.0\.name: "nginx:1\.27" is not pinned by digest \[E_BUNDLE_RECIPE\]/);
  });

  it("extract creates the folder only when everything verified", async () => {
    const to = join(dir, "out");
    const r = await cli(["bundle", "extract", bundle, "--to", to, "--trust", join(dir, "KEY.pub")]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(to, "manifests/test-namespace.yaml"), "utf8")).toContain("name: omstack-test");
  });
});
