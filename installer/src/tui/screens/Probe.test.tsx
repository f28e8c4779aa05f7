import { describe, expect, it } from "vitest";
import { OmstackError } from "../../errors.js";
import type { HostSpec } from "../../inventory/types.js";
import type { HostFacts } from "../../probe/facts.js";
import type { ProbeEvent } from "../../probe/probeHosts.js";
import { gpu, host, port } from "../../preflight/testing/hosts.js";
import { Probe, type ProbeRunner } from "./Probe.js";
import { isAscii, KEY, press, renderAt, sizeProblems, waitFor } from "../testing.js";

const spec = (name: string, address: string): HostSpec => ({ name, address, port: 22, user: "root", auth: { kind: "agent", socket: "/s" }, sudo: { enabled: false }, bastion: null, roles: [], labels: {}, wipe: [] });
const hosts = [spec("gpu-01", "10.0.0.11"), spec("gpu-02", "10.0.0.12"), spec("cpu-01", "10.0.0.13")];
const facts = (name: string): HostFacts => host(name, { gpus: [gpu(0), gpu(1)], rdma: [port("mlx5_0", "InfiniBand"), port("mlx5_1", "InfiniBand", "DOWN")] });

describe("Probe", () => {
  it("fills the table as hosts answer, shows a failure's reason, and retries only the failed host", async () => {
    const calls: { hosts: string[]; accept: boolean }[] = [];
    let cpuFixed = false;
    const probe: ProbeRunner = async (hs, opts, on) => {
      calls.push({ hosts: hs.map((h) => h.name), accept: opts.acceptNewHostKeys });
      for (const h of hs) {
        on({ type: "host-started", host: h.name });
        if (h.name === "cpu-01" && !cpuFixed) on({ type: "host-failed", host: h.name, ms: 3000, error: new OmstackError("E_SSH_TIMEOUT", "cpu-01: no SSH answer from 10.0.0.13:22 within 10 s", { remedy: "check that the host is up" }) });
        else on({ type: "host-done", host: h.name, ms: 800, facts: facts(h.name) });
      }
    };
    const next: { facts: HostFacts[]; leftOut: string[] }[] = [];
    const r = renderAt(<Probe hosts={hosts} probe={probe} onNext={(f, leftOut) => next.push({ facts: f, leftOut })} />);
    let f = await waitFor(r.lastFrame, (x) => x.includes("2 of 3 hosts answered"));
    expect(f).toMatch(/gpu-01 +✓ +ubuntu 22.04 +2x A100 80G +1\/2 IB up 200G +-/);
    expect(f).toContain("no SSH answer from 10.0.0.13:22 within 10 s");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, KEY.down, KEY.down);
    expect(r.lastFrame()).toContain("fix: check that the host is up");
    cpuFixed = true;
    await press(r.stdin, "r");
    f = await waitFor(r.lastFrame, (x) => x.includes("all 3 hosts answered"));
    expect(calls).toEqual([{ hosts: ["gpu-01", "gpu-02", "cpu-01"], accept: false }, { hosts: ["cpu-01"], accept: false }]);
    await press(r.stdin, KEY.enter);
    expect(next[0]!.facts.map((x) => x.host)).toEqual(["gpu-01", "gpu-02", "cpu-01"]);
    expect(next[0]!.leftOut).toEqual([]);
  });

  it("no host reachable: says so, offers retry and back, and will not continue", async () => {
    const probe: ProbeRunner = async (hs, _o, on) => {
      for (const h of hs) on({ type: "host-failed", host: h.name, ms: 3000, error: new OmstackError("E_SSH_CONNECT", `${h.name}: ${h.address} is unreachable (EHOSTUNREACH)`, { remedy: "check the address" }) });
    };
    const next: unknown[] = [];
    let back = 0;
    const r = renderAt(<Probe hosts={hosts} probe={probe} onNext={(f) => next.push(f)} onBack={() => back++} />, { ascii: true });
    const f = await waitFor(r.lastFrame, (x) => x.includes("no host answered (3 failed)"));
    expect(f).toContain("10.0.0.12 is unreachable (EHOSTUNREACH)");
    expect(isAscii(f)).toBe(true);
    await press(r.stdin, KEY.enter);
    expect(next).toEqual([]);
    await press(r.stdin, KEY.esc);
    expect(back).toBe(1);
  });

  it("shows unknown host keys with their fingerprints and re-probes those hosts accepting them", async () => {
    const calls: { hosts: string[]; accept: boolean }[] = [];
    const probe: ProbeRunner = async (hs, opts, on) => {
      calls.push({ hosts: hs.map((h) => h.name), accept: opts.acceptNewHostKeys });
      for (const h of hs) {
        const e: ProbeEvent = h.name === "gpu-02" && !opts.acceptNewHostKeys
          ? { type: "host-failed", host: h.name, ms: 5, error: new OmstackError("E_SSH_HOSTKEY_UNKNOWN", `gpu-02: host key of 10.0.0.12:22 is not trusted yet`, { details: { fingerprint: "SHA256:2b6Vw3l5pPPwI1cVzS0ZJpQ4fNSXbQz1wNvJ7w2aY2E", keyType: "ssh-ed25519" } }) }
          : { type: "host-done", host: h.name, ms: 5, facts: facts(h.name) };
        on(e);
      }
    };
    const r = renderAt(<Probe hosts={hosts} probe={probe} onNext={() => undefined} />);
    const f = await waitFor(r.lastFrame, (x) => x.includes("New host keys"));
    expect(f).toContain("gpu-02         ssh-ed25519 SHA256:2b6Vw3l5pPPwI1cVzS0ZJpQ4fNSXbQz1wNvJ7w2aY2E");
    await press(r.stdin, "a");
    await waitFor(r.lastFrame, (x) => x.includes("all 3 hosts answered"));
    expect(calls[1]).toEqual({ hosts: ["gpu-02"], accept: true });
  });

  it("says it is probing from the first frame, before any host has answered", async () => {
    let release: () => void = () => undefined;
    const probe: ProbeRunner = (hs, _o, on) =>
      new Promise<void>((done) => {
        release = () => {
          for (const h of hs) on({ type: "host-done", host: h.name, ms: 5, facts: facts(h.name) });
          done();
        };
      });
    const r = renderAt(<Probe hosts={hosts} probe={probe} onNext={() => undefined} />);
    await press(r.stdin);
    expect(r.frames[0]).toContain("probing: 0/3 answered");
    expect(r.lastFrame()).toContain("probing (read-only) ...");
    release();
    await waitFor(r.lastFrame, (x) => x.includes("all 3 hosts answered"));
    expect(r.frames.some((f) => f.includes("no host answered"))).toBe(false);
  });
});
