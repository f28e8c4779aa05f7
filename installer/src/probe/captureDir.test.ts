import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OmstackError } from "../errors.js";
import { readCaptureDir } from "./captureDir.js";
import type { ProbeWarning } from "./facts.js";
import { FIXTURES_DIR } from "./parse/testFixtures.js";

let tmp: string | null = null;
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

describe("readCaptureDir", () => {
  it("reads a host profile's capture files and skips SOURCE.md silently", async () => {
    const warnings: ProbeWarning[] = [];
    const m = await readCaptureDir(`${FIXTURES_DIR}hosts/a100-roce`, { onWarning: (w) => warnings.push(w) });
    expect([...m.keys()].sort()).toEqual(
      ["cpuinfo.txt", "ibdev2netdev.txt", "lspci.txt", "meminfo.txt", "nvidia-smi-q-x.xml", "ofed_info.txt", "os-release", "rdma-link.txt"].sort(),
    );
    expect(warnings).toEqual([]);
  });

  it("warns about unknown and oversized files and ignores them", async () => {
    tmp = mkdtempSync(join(tmpdir(), "omstack-capdir-"));
    writeFileSync(join(tmp, "notes.txt"), "hello");
    writeFileSync(join(tmp, "meminfo.txt"), "x".repeat(100));
    mkdirSync(join(tmp, "lsblk.json"));
    const warnings: ProbeWarning[] = [];
    const m = await readCaptureDir(tmp, { maxBytes: 10, onWarning: (w) => warnings.push(w) });
    expect(m.size).toBe(0);
    expect(warnings.map((w) => w.capture).sort()).toEqual(["lsblk.json", "meminfo.txt", "notes.txt"]);
  });

  it("a missing directory is an E_CAPTURE_DIR error with a remedy", async () => {
    const err = await readCaptureDir("/nonexistent/omstack-capture").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OmstackError);
    expect((err as OmstackError).code).toBe("E_CAPTURE_DIR");
    expect((err as OmstackError).remedy).toMatch(/docs\/probe.md/);
  });
});
