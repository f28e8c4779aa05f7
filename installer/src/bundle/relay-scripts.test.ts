import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  authorizedEditScript,
  authorizedKeysPath,
  authorizedLine,
  knownHostsLines,
  parseProbe,
  partialPath,
  probeScript,
  receiverScript,
  relayDirProblem,
  sendCommand,
} from "./relay-scripts.js";

const dir = mkdtempSync(join(tmpdir(), "omstack-relay-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIINbtm9egRmq7pNo4sk1LdSwUE6ibWKRBs5kp3ATmi/9 comment";

describe("receiverScript (run by /bin/sh with SSH_ORIGINAL_COMMAND, as sshd runs a forced command)", () => {
  const remote = join(dir, "recv");
  const paths = ["images/blobs/sha256/abc", "bundle.json"];
  const script = join(dir, "recv.sh");
  writeFileSync(script, receiverScript(remote, "r1", paths, "sha256sum"));
  const run = (cmd: string, input = "") => spawnSync("/bin/sh", [script], { input, env: { PATH: process.env.PATH, SSH_ORIGINAL_COMMAND: cmd } });
  const partial = partialPath(remote, paths[0]!);

  it("appends to the part's partial file only when it holds exactly the offset", () => {
    expect(run("put 0 0", "hello ").status).toBe(0);
    expect(run("put 0 6", "world").status).toBe(0);
    expect(readFileSync(partial, "utf8")).toBe("hello world");
    const stale = run("put 0 3", "x");
    expect(stale.status).toBe(65);
    expect(stale.stderr.toString()).toContain("holds 11 bytes, not 3");
    expect(readFileSync(partial, "utf8")).toBe("hello world");
  });
  it.each([
    ["rm -rf /", 64],
    ["put 9 0", 64],
    ["put ../../etc/passwd 0", 64],
    ["put 0 1;id", 64],
    ["put 0 $(id)", 64],
    ["put 0", 64],
    ["put 0 0 extra", 64],
    ["", 64],
  ])("refuses %j", (cmd, code) => {
    const r = run(cmd, "data");
    expect(r.status).toBe(code);
    expect(r.stderr.toString()).toMatch(/omstack relay: /);
  });
  it("hash mode prints the stream's sha256 and stores nothing", () => {
    const r = run("hash 1", "some bytes");
    expect(r.status).toBe(0);
    expect(r.stdout.toString().slice(0, 64)).toBe(sha("some bytes"));
    expect(() => statSync(partialPath(remote, paths[1]!))).toThrow();
  });
});

describe("authorized_keys", () => {
  it("pins the source address, the receiver and every restriction", () => {
    expect(authorizedLine(KEY, "/var/lib/omstack/bundle/.relay/recv-ab12", "198.18.3.11", "omstack-relay-ab12")).toBe(
      `from="198.18.3.11",command="/bin/sh /var/lib/omstack/bundle/.relay/recv-ab12",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty,no-user-rc ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIINbtm9egRmq7pNo4sk1LdSwUE6ibWKRBs5kp3ATmi/9 omstack-relay-ab12`,
    );
  });
  it("refuses an address or path that could break out of the options", () => {
    expect(() => authorizedLine(KEY, "/x/recv", `1.2.3.4",command="sh`, "m")).toThrow(/not an IP address/);
    expect(() => authorizedLine(KEY, `/x/re"cv`, "1.2.3.4", "m")).toThrow(/cannot go into authorized_keys/);
    expect(() => authorizedLine("garbage", "/x/recv", "1.2.3.4", "m")).toThrow(/not an OpenSSH public key/);
  });
  it("replaces the run's line, keeps other lines, mode and file; removal leaves only the others", () => {
    const f = join(dir, "ak", "authorized_keys");
    mkdirSync(join(dir, "ak"));
    writeFileSync(f, `${KEY}\nssh-ed25519 AAAA old omstack-relay-0000\nssh-rsa AAAB other`);
    chmodSync(f, 0o600);
    const sh = (s: string) => execFileSync("/bin/sh", ["-c", s]);
    sh(authorizedEditScript(f, "omstack-relay-", `from="1.2.3.4" ssh-ed25519 AAAA new omstack-relay-1111`));
    expect(readFileSync(f, "utf8")).toBe(`${KEY}\nssh-rsa AAAB other\nfrom="1.2.3.4" ssh-ed25519 AAAA new omstack-relay-1111\n`);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    sh(authorizedEditScript(f, "omstack-relay-", null));
    expect(readFileSync(f, "utf8")).toBe(`${KEY}\nssh-rsa AAAB other\n`);
    sh(authorizedEditScript(join(dir, "ak", "absent"), "omstack-relay-", null));
    expect(() => statSync(join(dir, "ak", "absent"))).toThrow();
  });
  it.each([
    ["", "/root", "root", "/root/.ssh/authorized_keys"],
    [".ssh/authorized_keys .ssh/authorized_keys2", "/root", "root", "/root/.ssh/authorized_keys"],
    ["%h/.ssh/authorized_keys", "/home/ops/", "ops", "/home/ops//.ssh/authorized_keys"],
    ["/etc/ssh/keys/%u", "/root", "root", "/etc/ssh/keys/root"],
    ["/etc/omstack-lab/authorized_keys", "/root", "root", "/etc/omstack-lab/authorized_keys"],
    ["keys/100%%", "/root", "root", "/root/keys/100%"],
    ["none", "/root", "root", null],
    ["", "", "root", null],
  ])("AuthorizedKeysFile %j (home %s) → %s", (value, home, user, want) => expect(authorizedKeysPath(value, home, user)).toBe(want));
});

describe("probeScript + parseProbe (run here with /bin/sh)", () => {
  it("reports the hasher, the ssh client, the hash of a final file and the size of a partial one", () => {
    const remote = join(dir, "probe");
    mkdirSync(join(remote, "a"), { recursive: true });
    writeFileSync(join(remote, "a/final"), "complete");
    writeFileSync(partialPath(remote, "a/half"), "12345");
    const out = execFileSync("/bin/sh", ["-c", probeScript(remote, ["a/final", "a/half", "a/none"])]).toString();
    const p = parseProbe(out, 3);
    expect(p.finals).toEqual([sha("complete"), null, null]);
    expect(p.partials).toEqual([0, 5, 0]);
    const hasOpenssl = spawnSync("/bin/sh", ["-c", "command -v openssl"]).status === 0;
    expect(p.hasher).toBe(hasOpenssl ? "openssl" : "sha256sum");
    expect(p.ssh).toBe(spawnSync("/bin/sh", ["-c", "command -v ssh"]).status === 0);
    expect(p.authorizedKeys).toMatch(/^\//);
  });
  it("treats garbage as nothing held", () => {
    const p = parseProbe("F0:zzz\nP0:-4\nnoise", 1);
    expect(p).toMatchObject({ hasher: "sha256sum", ssh: false, finals: [null], partials: [0] });
  });
});

describe("small renderers", () => {
  it("knownHostsLines brackets non-22 ports", () =>
    expect(knownHostsLines([{ address: "10.0.0.1", port: 22, hostKeyLine: KEY }, { address: "10.0.0.2", port: 2222, hostKeyLine: KEY }])).toBe(
      `10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIINbtm9egRmq7pNo4sk1LdSwUE6ibWKRBs5kp3ATmi/9\n[10.0.0.2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIINbtm9egRmq7pNo4sk1LdSwUE6ibWKRBs5kp3ATmi/9\n`,
    ));
  it("sendCommand streams from the offset with strict host key checking", () => {
    const c = sendCommand({ final: "/b/x.tar", offset: 100, key: "/b/.relay/key-1", knownHosts: "/b/.relay/kh-1", target: { address: "10.0.0.2", port: 22, user: "root" }, request: "put 0 100" });
    expect(c).toMatch(/^tail -c \+101 '\/b\/x\.tar' \| ssh /);
    expect(c).toContain("-o StrictHostKeyChecking=yes");
    expect(c).toContain("-o UserKnownHostsFile='/b/.relay/kh-1'");
    expect(c).toMatch(/'10\.0\.0\.2' 'put 0 100'$/);
  });
  it("relayDirProblem", () => {
    expect(relayDirProblem("/var/lib/omstack/bundle")).toBeNull();
    expect(relayDirProblem("var/lib")).toMatch(/absolute/);
    expect(relayDirProblem("/var/lib/a b")).toMatch(/only letters/);
  });
});
