// `omstack probe` of this machine (no SSH) and `--from-capture` of real fixtures, through the built CLI.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir, hostname } from "node:os";
import { join } from "node:path";
import { omstack, repoRoot as repo } from "./run-cli.js";
import { describe, expect, it } from "vitest";
import type { HostFacts } from "../../installer/src/probe/facts.js";



describe("omstack probe (local and offline)", () => {
  it("probes this machine without SSH and agrees with the kernel's own files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-local-"));
    const r = await omstack(["probe", "-o", "json", "--capture-dir", dir]);
    expect(r.code).toBe(0);
    const [f] = (JSON.parse(r.stdout) as { hosts: HostFacts[] }).hosts;
    expect(f!.host).toBe(hostname());
    const osRelease = await readFile("/etc/os-release", "utf8");
    expect(f!.os!.id).toBe(/^ID=("?)([^"\n]+)\1$/m.exec(osRelease)![2]);
    const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(await readFile("/proc/meminfo", "utf8"))![1]);
    expect(f!.memory!.totalBytes).toBe(memKb * 1024);
    expect(f!.kernel).toBe(execFileSync("uname", ["-r"]).toString().trim());
    expect(f!.disks.length).toBeGreaterThan(0);
    expect(await readFile(join(dir, hostname(), "meminfo.txt"), "utf8")).toContain("MemTotal:");
  });

  it("parses a folder of real captures offline (yaml output)", async () => {
    const r = await omstack(["probe", "--from-capture", join(repo, "tests/fixtures/hosts/a100-mig"), "-o", "yaml"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("host: a100-mig");
    expect(r.stdout).toMatch(/migMode: enabled/);
  });

  it("rejects a missing or empty capture folder with exit 2", async () => {
    const missing = await omstack(["probe", "--from-capture", "/nonexistent/captures"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("E_CAPTURE_DIR");
    const empty = await mkdtemp(join(tmpdir(), "omstack-empty-"));
    await mkdir(join(empty, "h1"));
    await writeFile(join(empty, "h1", "notes.txt"), "hello");
    const r = await omstack(["probe", "--from-capture", join(empty, "h1")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("holds no capture files");
  });

  it("answers --help and refuses contradictory flags", async () => {
    const help = await omstack(["probe", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--accept-new-host-keys");
    const both = await omstack(["probe", "--from-capture", "x", "-i", "y"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("cannot be combined");
    const debug = await omstack(["probe", "-i", "/nope.yaml", "--debug"]);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/at .*load\.(js|ts)/);
    const noDebug = await omstack(["probe", "-i", "/nope.yaml"]);
    expect(noDebug.stderr).not.toMatch(/\n\s+at /);
  });
});
