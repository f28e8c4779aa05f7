// Relay fan-out over real SSH test hosts (tests/hosts) whose links are rate-limited with tc: hosts that hold the
// parts send them on to others over the lab network, a source killed mid-transfer is replaced by another holder and
// the target resumes from the bytes that arrived, a host without an OpenSSH client still receives, and nothing of
// the run (key, receiver, authorized_keys line) is left on any host.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FanoutEvent, Part } from "../../installer/src/bundle/distribute.js";
import { relayFanOut } from "../../installer/src/bundle/relay.js";
import { connectSsh, type SshRemote } from "../../installer/src/bundle/remote-ssh.js";
import { startTestHosts, type TestLab } from "../hosts/lab.js";
import { sha, tempDir } from "./helpers.js";
import { limitLinks } from "./links.js";

let lab: TestLab;
let remotes: SshRemote[] = [];
let parts: Part[];
let dir = "";
const REMOTE = "/var/lib/omstack/bundle";
const NAMES = ["rel-01", "rel-02", "rel-03", "rel-04", "rel-05", "rel-06", "rel-07"];
const NO_SSH = "rel-07";

beforeAll(async () => {
  lab = await startTestHosts(
    NAMES.map((name) => (name === NO_SSH ? { name, hideCommands: ["ssh"] } : { name })),
    { runDir: tmpdir() },
  );
  await limitLinks(lab, 200, { installer: true }); // 24 MiB part ≈ 1 s per hop
  remotes = await Promise.all(lab.hosts.map((h) => connectSsh({ name: h.name, address: h.address, port: h.port, user: h.user, identityFile: h.identityFile, hostKeyLine: h.hostKeyLine })));
  dir = tempDir("omstack-relay-");
  const big = randomBytes(24 * 1024 * 1024);
  const small = Buffer.from("bundle.json stand-in\n");
  writeFileSync(join(dir, "big"), big);
  writeFileSync(join(dir, "small"), small);
  parts = [
    { path: "omstack-0.0.0-test-amd64.tar", size: big.length, sha256: sha(big), local: join(dir, "big") },
    { path: "meta/bundle.json", size: small.length, sha256: sha(small), local: join(dir, "small") },
  ];
}, 120_000);

afterAll(async () => {
  for (const r of remotes) r.close();
  await lab?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const onHost = (name: string, path: string) => join(lab.host(name).rootDir, path);

describe("relay fan-out over SSH test hosts", () => {
  it("relays host to host, survives a source killed mid-transfer, and leaves no key behind", async () => {
    const events: FanoutEvent[] = [];
    let victim: string | null = null;
    const report = await relayFanOut(remotes, parts, {
      remoteDir: REMOTE,
      concurrency: 8,
      onEvent: (e) => {
        events.push(e);
        // the first host that sends the big part is killed (its sshd is its PID namespace's init, so every process of
        // the host dies) once 2 MiB of it have arrived at the target
        if (victim === null && e.kind === "relay" && e.path === parts[0]!.path && e.source !== "installer") {
          victim = e.source;
          const pid = lab.host(victim).pid!;
          const partial = onHost(e.host, `${REMOTE}/.omstack-0.0.0-test-amd64.tar.part`);
          const timer = setInterval(() => {
            if (existsSync(partial) && statSync(partial).size > 2 * 1024 * 1024) {
              clearInterval(timer);
              process.kill(pid, "SIGKILL");
            }
          }, 20);
        }
      },
    });
    if (process.env.RELAY_DEBUG) console.log(events.map((e) => JSON.stringify(e)).join("\n"));
    expect(victim).not.toBeNull();
    expect(report.sourcesLost).toEqual([victim]);
    // the victim's target was taken over by another holder and resumed from what had arrived
    const lostEvent = events.find((e) => e.kind === "source-lost" && e.source === victim);
    expect(lostEvent).toBeDefined();
    const rescued = lostEvent!.host;
    const resume = events.find((e) => e.kind === "resume" && e.host === rescued);
    expect(resume && resume.kind === "resume" ? resume.from : 0).toBeGreaterThan(0);
    const relays = events.filter((e) => e.kind === "relay" && e.host === rescued);
    expect(relays.length).toBeGreaterThanOrEqual(2);
    // every host (the victim got its copy before it died) holds verified parts
    for (const h of lab.hosts) for (const p of parts) expect(sha(readFileSync(onHost(h.name, `${REMOTE}/${p.path}`)))).toBe(p.sha256);
    // the installer sent the first copies only (a binomial tree: 3 of 7, 4 with the lost source), the rest went host
    // to host; the host without ssh received but never sent
    const big = parts[0]!.size;
    expect(report.installerBytes).toBeLessThan(5 * big);
    expect(report.relayedBytes).toBeGreaterThan(2 * big);
    expect(report.hosts.filter((h) => h.via.at(-1) !== "installer").length).toBeGreaterThanOrEqual(3);
    expect(report.hosts.flatMap((h) => h.via)).not.toContain(NO_SSH);
    expect(report.hosts.find((h) => h.name === NO_SSH)!.sent).toBe(2);
    // nothing of the run is left on the live hosts
    for (const h of lab.hosts.filter((x) => x.name !== victim)) {
      expect(readFileSync(onHost(h.name, "/etc/omstack-lab/authorized_keys"), "utf8")).not.toContain("omstack-relay-");
      expect(existsSync(onHost(h.name, `${REMOTE}/.relay`))).toBe(false);
    }
  }, 180_000);

  it("skips every host that already holds the parts", async () => {
    const live = remotes.filter((r) => existsSync(`/proc/${lab.host(r.name).pid}`));
    const report = await relayFanOut(live, parts, { remoteDir: REMOTE, concurrency: 8 });
    expect(report.hosts.every((h) => h.skipped === 2 && h.sent === 0)).toBe(true);
    expect(report.installerBytes + report.relayedBytes).toBe(0);
  }, 60_000);

  it("rejects a remote folder that cannot be written into authorized_keys", async () => {
    await expect(relayFanOut(remotes.slice(0, 1), parts, { remoteDir: '/var/lib/om"stack', concurrency: 1 })).rejects.toMatchObject({ code: "E_USAGE" });
    await expect(relayFanOut(remotes.slice(0, 1), parts, { remoteDir: "relative/dir", concurrency: 1 })).rejects.toMatchObject({ code: "E_USAGE" });
  });
});
