// Fan-out to real SSH test hosts (tests/hosts): parts land verified, a second run skips them, a connection dropped
// mid-transfer resumes from the bytes that arrived, and damage in transit is caught and reported per host.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fanOut, type FanoutEvent, type Part, type RemoteHost } from "../../installer/src/bundle/distribute.js";
import { connectSsh, type SshRemote } from "../../installer/src/bundle/remote-ssh.js";
import { startTestHosts, type TestLab } from "../hosts/lab.js";
import { sha, tempDir } from "./helpers.js";

let lab: TestLab;
let remotes: SshRemote[] = [];
let parts: Part[];
const REMOTE = "/var/lib/omstack/bundle";

beforeAll(async () => {
  lab = await startTestHosts([{ name: "fan-01" }, { name: "fan-02" }, { name: "fan-03" }], { runDir: tmpdir() });
  remotes = await Promise.all(lab.hosts.map((h) => connectSsh({ name: h.name, address: h.address, port: h.port, user: h.user, identityFile: h.identityFile, hostKeyLine: h.hostKeyLine })));
  const dir = tempDir("omstack-fanout-");
  const big = randomBytes(8 * 1024 * 1024);
  const small = Buffer.from("bundle.json stand-in\n");
  writeFileSync(join(dir, "big"), big);
  writeFileSync(join(dir, "small"), small);
  parts = [
    { path: "images/blobs/sha256/" + sha(big), size: big.length, sha256: sha(big), local: join(dir, "big") },
    { path: "bundle.json", size: small.length, sha256: sha(small), local: join(dir, "small") },
  ];
}, 120_000);

afterAll(async () => {
  for (const r of remotes) r.close();
  await lab?.stop();
});

const onHost = (name: string, path: string) => join(lab.host(name).rootDir, REMOTE, path);

/** Cuts the SSH connection after `after` bytes of the first upload (a real dropped connection mid-transfer). */
function dropping(r: SshRemote, after: number): RemoteHost {
  let armed = true;
  return {
    name: r.name,
    exec(cmd: string, stdin?: Readable) {
      if (!stdin || !armed) return r.exec(cmd, stdin);
      armed = false;
      let n = 0;
      const cut = new Transform({
        transform(c: Buffer, _e, cb) {
          n += c.length;
          if (n > after) {
            // pass what fits, hold the rest back (never call cb), let the sent bytes land, then cut the connection
            this.push(c.subarray(0, c.length - (n - after)));
            setTimeout(() => r.drop(), 1000);
            return;
          }
          cb(null, c);
        },
      });
      return r.exec(cmd, stdin.pipe(cut));
    },
  };
}

/** Flips one byte of every upload (damage in transit). */
function corrupting(r: SshRemote): RemoteHost {
  return {
    name: r.name,
    exec(cmd: string, stdin?: Readable) {
      if (!stdin) return r.exec(cmd);
      let first = true;
      const flip = new Transform({
        transform(c: Buffer, _e, cb) {
          if (first && c.length > 0) {
            first = false;
            c = Buffer.from(c);
            c[0]! ^= 0xff;
          }
          cb(null, c);
        },
      });
      return r.exec(cmd, stdin.pipe(flip));
    },
  };
}

describe("fan-out over SSH to test hosts", () => {
  it("places every part on every host, verified, and skips them all the second time", async () => {
    const first = await fanOut(remotes, parts, { remoteDir: REMOTE, concurrency: 2 });
    expect(first.hosts.map((h) => [h.sent, h.skipped])).toEqual([[2, 0], [2, 0], [2, 0]]);
    for (const h of lab.hosts) for (const p of parts) expect(sha(readFileSync(onHost(h.name, p.path)))).toBe(p.sha256);
    const events: FanoutEvent[] = [];
    const second = await fanOut(remotes, parts, { remoteDir: REMOTE, concurrency: 3, onEvent: (e) => events.push(e) });
    expect(second.hosts.every((h) => h.skipped === 2 && h.sent === 0 && h.bytes === 0)).toBe(true);
    expect(events.filter((e) => e.kind === "skip")).toHaveLength(6);
  });

  it("resumes a transfer whose connection dropped, sending only the rest", async () => {
    const r = remotes[0]!;
    await r.exec(`rm -rf ${REMOTE}`);
    const events: FanoutEvent[] = [];
    const report = await fanOut([dropping(r, 3 * 1024 * 1024)], [parts[0]!], { remoteDir: REMOTE, concurrency: 1, onEvent: (e) => events.push(e) });
    const resume = events.find((e) => e.kind === "resume");
    expect(resume && resume.kind === "resume" ? resume.from : 0).toBeGreaterThan(1024 * 1024);
    expect(events.some((e) => e.kind === "retry")).toBe(true);
    expect(sha(readFileSync(onHost(r.name, parts[0]!.path)))).toBe(parts[0]!.sha256);
    expect(report.hosts[0]!.bytes).toBeLessThan(parts[0]!.size + 3 * 1024 * 1024); // not sent twice in full
  });

  it("reports damage in transit per host, removes the damaged copy, and still serves the other hosts", async () => {
    for (const r of remotes) await r.exec(`rm -rf ${REMOTE}`);
    const hosts = [remotes[0]!, corrupting(remotes[1]!), remotes[2]!];
    const err = await fanOut(hosts, [parts[1]!], { remoteDir: REMOTE, concurrency: 3 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "E_BUNDLE_WRITE", message: "fan-out failed on 1 of 3 hosts" });
    expect((err as { format(): string }).format()).toMatch(/fan-02: bundle\.json arrived as sha256 [0-9a-f]{64}; expected [0-9a-f]{64} \[E_BUNDLE_CHECKSUM\]/);
    expect(existsSync(onHost("fan-01", "bundle.json"))).toBe(true);
    expect(existsSync(onHost("fan-03", "bundle.json"))).toBe(true);
    expect(existsSync(onHost("fan-02", "bundle.json"))).toBe(false);
    expect(existsSync(onHost("fan-02", ".bundle.json.part"))).toBe(false);
  });
});
