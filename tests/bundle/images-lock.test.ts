// images.lock is the single list of images the platform runs: every chart or manifest in the repository must use
// only images it holds, and the file must be what `omstack images lock` writes today.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseLock, scanImageRefs, unlockedRefs } from "../../installer/src/bundle/images-lock.js";
import { cli, REPO, tempDir } from "./helpers.js";

describe("images.lock", () => {
  it("holds every image a chart or manifest in the repository references", async () => {
    const lock = parseLock(readFileSync(join(REPO, "images.lock"), "utf8"));
    const refs = await scanImageRefs(REPO);
    expect(refs.length).toBeGreaterThan(0);
    const missing = unlockedRefs(lock, refs).map((r) => `${r.ref} (${r.file})`);
    expect(missing, "run `omstack images lock` after pinning these images in a recipe").toEqual([]);
  });

  it("fails for a chart that uses an image the lock does not hold", async () => {
    const repo = tempDir("omstack-lock-");
    cpSync(join(REPO, "bundle"), join(repo, "bundle"), { recursive: true });
    cpSync(join(REPO, "images.lock"), join(repo, "images.lock"));
    mkdirSync(join(repo, "manifests"));
    writeFileSync(join(repo, "manifests", "extra.yaml"), "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: x\n      image: quay.io/example/unlocked:2.0\n");
    const missing = unlockedRefs(parseLock(readFileSync(join(repo, "images.lock"), "utf8")), await scanImageRefs(repo));
    expect(missing.map((m) => m.ref)).toEqual(["quay.io/example/unlocked:2.0"]);
    const r = await cli(["images", "lock", "--repo", repo]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/quay\.io\/example\/unlocked:2\.0 \(manifests\/extra\.yaml\).*\[E_IMAGES_LOCK\]/);
  });

  it("is what `omstack images lock` writes (--check), and --check notices drift", async () => {
    const ok = await cli(["images", "lock", "--check", "--repo", REPO]);
    expect(ok.code, ok.stderr).toBe(0);
    const repo = tempDir("omstack-lock-");
    cpSync(join(REPO, "bundle"), join(repo, "bundle"), { recursive: true });
    writeFileSync(join(repo, "images.lock"), readFileSync(join(REPO, "images.lock"), "utf8").replace(/usedBy: \[.*\]/, "usedBy: []"));
    const drift = await cli(["images", "lock", "--check", "--repo", repo]);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toMatch(/out of date \[E_IMAGES_LOCK\]/);
    const write = await cli(["images", "lock", "--repo", repo]);
    expect(write.code, write.stderr).toBe(0);
    expect(readFileSync(join(repo, "images.lock"), "utf8")).toBe(readFileSync(join(REPO, "images.lock"), "utf8"));
  });
});
