import { describe, expect, it } from "vitest";
import type { HostSpec } from "../../inventory/types.js";
import { Hosts, type HostSecrets } from "./Hosts.js";
import { KEY, press, renderAt, sizeProblems, waitFor } from "../testing.js";

describe("Hosts", () => {
  it("adds a pasted range and a named host, removes one, and asks user, password (masked) and sudo", async () => {
    const got: { hosts: HostSpec[]; secrets: HostSecrets }[] = [];
    const r = renderAt(<Hosts hosts={[]} checkKey={async () => null} agentSocket={null} onNext={(hosts, secrets) => got.push({ hosts, secrets })} />);
    await press(r.stdin, "10.0.0.11-18", KEY.enter, "gpu-01=10.0.1.5", KEY.enter, "-node-12", KEY.enter);
    let f = r.lastFrame()!;
    expect(f).toContain("node-18");
    expect(f).toContain("gpu-01");
    expect(f).not.toContain("node-12 ");
    expect(f).toContain("[8 so far]");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, KEY.enter); // empty line: continue
    await waitFor(r.lastFrame, (x) => x.includes("SSH user for all hosts"));
    await press(r.stdin, ...Array(4).fill(KEY.backspace), "ops", KEY.enter); // user
    await waitFor(r.lastFrame, (x) => x.includes("How does ops log in?"));
    await press(r.stdin, "3"); // password
    await waitFor(r.lastFrame, (x) => x.includes("Password of ops (hidden)"));
    await press(r.stdin, "s3cret-pw");
    f = r.lastFrame()!;
    expect(f).toContain("*********");
    expect(f).not.toContain("s3cret-pw");
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("ops is not root"));
    await press(r.stdin, "2"); // sudo with a password
    await waitFor(r.lastFrame, (x) => x.includes("sudo password of ops"));
    await press(r.stdin, "sudo-pw", KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("Bastion (jump host)"));
    await press(r.stdin, "jump@192.0.2.10:2222", KEY.enter);
    await waitFor(() => (got.length ? "x" : ""), (x) => x === "x");
    const { hosts, secrets } = got[0]!;
    expect(hosts.map((h) => h.name)).toEqual(["node-11", "node-13", "node-14", "node-15", "node-16", "node-17", "node-18", "gpu-01"]);
    expect(hosts[0]).toMatchObject({ address: "10.0.0.11", user: "ops", auth: { kind: "password" }, sudo: { enabled: true, askPassword: true }, bastion: { address: "192.0.2.10", port: 2222, user: "jump" } });
    expect(secrets).toEqual({ sshPassword: "s3cret-pw", sudoPassword: "sudo-pw" });
    // the secret is not part of the host specs
    expect(JSON.stringify(hosts)).not.toContain("s3cret");
  });

  it("shows a bad range, an empty list and an unusable key with their reasons", async () => {
    const r = renderAt(<Hosts hosts={[]} checkKey={async (p) => (p.endsWith("missing") ? "no such file" : null)} agentSocket={null} onNext={() => undefined} />, { ascii: true });
    await press(r.stdin, KEY.enter);
    expect(r.lastFrame()).toContain("add at least one host first");
    await press(r.stdin, "10.0.0.18-11", KEY.enter);
    expect(r.lastFrame()).toContain("the range must count up");
    await press(r.stdin, "10.0.0.11", KEY.enter, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("SSH user for all hosts"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("How does root log in?"));
    await press(r.stdin, "1");
    await waitFor(r.lastFrame, (x) => x.includes("Private key file"));
    await press(r.stdin, ...Array(20).fill(KEY.backspace), "/nonexistent/missing", KEY.enter);
    await waitFor(r.lastFrame, (f) => f.includes("SSH key /nonexistent/missing cannot be used: no such file"));
  });

  it("the table shows the SSH settings Enter will apply: asked next, then the chosen key", async () => {
    const got: HostSpec[][] = [];
    const r = renderAt(<Hosts hosts={[]} checkKey={async () => null} agentSocket="/run/agent.sock" onNext={(hosts) => got.push(hosts)} />);
    await press(r.stdin, "lab1=198.19.0.11", KEY.enter);
    let f = await waitFor(r.lastFrame, (x) => x.includes("[1 so far]"));
    expect(f).toMatch(/lab1 +198\.19\.0\.11 +root +\(asked next\)/);
    expect(f).not.toContain("ssh-agent");
    await press(r.stdin, KEY.enter, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("How does root log in?"));
    await press(r.stdin, KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("Private key file"));
    await press(r.stdin, KEY.backspace.repeat(30), "/keys/lab_ed25519", KEY.enter);
    f = await waitFor(r.lastFrame, (x) => x.includes("Bastion (jump host)"));
    expect(f).toMatch(/lab1 +198\.19\.0\.11 +root +key \/keys\/lab_ed25519/);
    await press(r.stdin, KEY.enter);
    await waitFor(() => (got.length ? "x" : ""), (x) => x === "x");
    expect(got[0]![0]!.auth).toEqual({ kind: "key", identityFile: "/keys/lab_ed25519" });
  });
});
