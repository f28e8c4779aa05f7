// host.packages against one real SSH test host (its own overlay root, so its dpkg database is a copy-on-write copy of
// this machine's and nothing reaches the machine's own): a tiny .deb "omstack-test-marker" built here with dpkg-deb is
// installed, skipped on the next run, upgraded by a newer bundle, and left alone by an older one.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHosts } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import type { SshConnector } from "../../installer/src/adapters/ssh/client.js";
import type { HostSpec } from "../../installer/src/inventory/types.js";
import { labConnector, snapshotRoot } from "./step-hosts.js";
import { execute } from "../../installer/src/executor/executor.js";
import { sessionHosts } from "../../installer/src/executor/contexts.js";
import type { ExecutorEvent } from "../../installer/src/executor/events.js";
import { testNode, testPlan } from "../../installer/src/plan/testing.js";
import type { Plan } from "../../installer/src/plan/types.js";
import type { BundleParts } from "../../installer/src/steps/bundleParts.js";
import { hostPackages, PACKAGES_STAGING_ROOT } from "../../installer/src/steps/host/packages.js";

const run = promisify(execFile);
const HOST = "pk-01";
const MARKER = "omstack-test-marker";
const PLAN: Plan = testPlan([testNode(HOST)]);
/** The marker's own command stands in for containerd/runc: the step's runtime check must find it on PATH afterwards. */
const RUNTIME = { commands: [MARKER], cniPlugins: [], cniDirs: [] };

let lab: TestLab;
let work: string;
let connector: SshConnector;
let specs: Record<string, HostSpec>;

/** Builds omstack-test-marker_<version>_all.deb with dpkg-deb: a script in /usr/bin printing its version. */
async function buildMarker(version: string): Promise<{ path: string; sha256: string; size: number }> {
  const root = join(work, `pkg-${version}`);
  await mkdir(join(root, "DEBIAN"), { recursive: true });
  await mkdir(join(root, "usr", "bin"), { recursive: true });
  await writeFile(join(root, "DEBIAN", "control"), `Package: ${MARKER}\nVersion: ${version}\nArchitecture: all\nMaintainer: omstack tests <tests@omstack.invalid>\nDescription: marker package for host.packages tests\n`);
  await writeFile(join(root, "usr", "bin", MARKER), `#!/bin/sh\necho ${version}\n`);
  await chmod(join(root, "usr", "bin", MARKER), 0o755);
  const deb = join(work, `${MARKER}_${version}_all.deb`);
  await run("dpkg-deb", ["--root-owner-group", "--build", root, deb]);
  const data = await readFile(deb);
  return { path: deb, sha256: createHash("sha256").update(data).digest("hex"), size: data.length };
}

async function partsWith(version: string): Promise<BundleParts> {
  const deb = await buildMarker(version);
  const path = `packages/debian/${MARKER}_${version}_all.deb`;
  return {
    version: `0.0.${version.replace(/[^0-9]/g, "")}-test`,
    part: (p) => (p === path ? { path, source: deb.path, sha256: deb.sha256, size: deb.size, mode: 0o644 } : null),
    images: [],
    packages: { debian: [{ name: MARKER, version, path }] },
  };
}

function exec(parts: BundleParts, o: { dryRun?: boolean; events?: ExecutorEvent[] } = {}) {
  const events = o.events ?? [];
  return execute<Plan>({ steps: [hostPackages({ parts, runtime: RUNTIME })], plan: PLAN, hosts: sessionHosts((name) => connector.open(specs[name]!)), stateDir: join(work, "state"), dryRun: o.dryRun ?? false, onEvent: (e) => events.push(e) });
}

async function ssh(command: string): Promise<string> {
  return (await run("ssh", lab.sshArgs(HOST, [command]))).stdout;
}

async function machineKnowsMarker(): Promise<boolean> {
  return run("dpkg-query", ["-W", MARKER]).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "omstack-host-packages-it-"));
  lab = await startTestHosts([{ name: HOST }], { runDir: work });
  ({ connector, specs } = await labConnector(lab));
});

afterAll(async () => {
  await lab?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("host.packages over SSH with a real dpkg", () => {
  it("the test host's dpkg database is its own overlay copy: writes land in its upper dir, not in this machine's", async () => {
    expect(await machineKnowsMarker()).toBe(false);
    expect((await ssh("grep -E '^ID=' /etc/os-release")).trim()).toBe("ID=debian");
    await ssh("touch /var/lib/dpkg/omstack-overlay-probe");
    expect(existsSync(join(lab.host(HOST).rootDir, "var/lib/dpkg/omstack-overlay-probe"))).toBe(true);
    expect(existsSync("/var/lib/dpkg/omstack-overlay-probe")).toBe(false);
    await ssh("rm /var/lib/dpkg/omstack-overlay-probe");
  });

  it("dry-run lists the marker as missing and changes nothing", async () => {
    const before = snapshotRoot(lab.host(HOST).rootDir);
    const events: ExecutorEvent[] = [];
    const r = await exec(await partsWith("1.0-1"), { dryRun: true, events });
    expect(r.status).toBe("succeeded");
    const planned = events.find((e): e is Extract<ExecutorEvent, { type: "step-planned" }> => e.type === "step-planned")!;
    expect(planned.lines).toEqual([expect.stringContaining("push 1 .deb(s) to /var/lib/omstack/packages/0.0.101-test/"), `  install ${MARKER} 1.0-1 (missing)`]);
    expect(snapshotRoot(lab.host(HOST).rootDir)).toEqual(before);
  });

  it("installs the marker in the host only; the staging folder is gone; a second run skips", async () => {
    const parts = await partsWith("1.0-1");
    const r = await exec(parts);
    expect(r.status, r.error?.format()).toBe("succeeded");
    expect(r.outcomes.map((o) => o.status)).toEqual(["verified"]);
    expect((await ssh(`dpkg-query -W -f='\${Status} \${Version}' ${MARKER}`)).trim()).toBe("install ok installed 1.0-1");
    expect((await ssh(MARKER)).trim()).toBe("1.0-1");
    expect(readFileSync(join(lab.host(HOST).rootDir, "var/lib/dpkg/status"), "utf8")).toContain(`Package: ${MARKER}\nStatus: install ok installed`);
    expect(await machineKnowsMarker()).toBe(false);
    expect((await ssh(`test -e ${PACKAGES_STAGING_ROOT}/${parts.version} && echo present || echo gone`)).trim()).toBe("gone");
    const again = await exec(parts);
    expect(again.outcomes.map((o) => o.status)).toEqual(["skipped"]);
  });

  it("a newer bundle upgrades it; an older bundle leaves the newer one alone (no dpkg run)", async () => {
    const up = await exec(await partsWith("1.2-1"));
    expect(up.outcomes.map((o) => o.status), up.error?.format()).toEqual(["verified"]);
    expect((await ssh(MARKER)).trim()).toBe("1.2-1");
    const logBefore = await ssh("wc -l < /var/log/dpkg.log");
    const events: ExecutorEvent[] = [];
    const down = await exec(await partsWith("1.1-1"), { events });
    // new inputs → applied again, but the host's 1.2-1 is newer than the bundle's 1.1-1: nothing installed
    expect(down.outcomes.map((o) => o.status), down.error?.format()).toEqual(["verified"]);
    expect(events.filter((e) => e.type === "step-note").map((e) => (e as { message: string }).message)).toEqual([`kept the host's newer packages: ${MARKER} 1.2-1 (newer than the bundle's 1.1-1: left alone)`]);
    expect((await ssh(MARKER)).trim()).toBe("1.2-1");
    expect(await ssh("wc -l < /var/log/dpkg.log")).toBe(logBefore);
    expect(await machineKnowsMarker()).toBe(false);
  });
});
