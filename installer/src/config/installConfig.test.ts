import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AggregateOmstackError, OmstackError } from "../errors.js";
import { cidrProblem, cidrsOverlap, loadInstallConfig, parseInstallConfig, renderInstallConfig, saveInstallConfig, type InstallConfig } from "./installConfig.js";

const noKeyCheck = async () => null;
const defaults = { stateDir: "/var/lib/omstack" };
const config: InstallConfig = {
  clusterName: "ai-prod",
  hosts: [
    { name: "gpu-01", address: "10.0.0.11", port: 22, user: "ops", auth: { kind: "password" }, sudo: { enabled: true, askPassword: true }, bastion: { address: "192.0.2.10", port: 2222, user: "jump", auth: { kind: "password" } }, roles: ["gpu"], labels: { rack: "r1" }, wipe: ["nvme1n1"] },
    { name: "cpu-01", address: "10.0.0.12", port: 2200, user: "root", auth: { kind: "key", identityFile: "/root/.ssh/id_ed25519" }, sudo: { enabled: false }, bastion: null, roles: [], labels: {}, wipe: [] },
  ],
  controlPlanes: 3,
  virtualIP: "10.0.0.250",
  bypassedChecks: ["swap.off", "ntp.sync"],
  adminPassword: "generate",
  bundlePath: "/srv/omstack-2026.1-amd64.tar",
  stateDir: "/var/lib/omstack",
  network: { podSubnet: "10.32.0.0/16", serviceSubnet: "10.96.0.0/12", controlPlaneEndpoint: "10.0.0.240:6443" },
};

describe("install config (omstack.yaml)", () => {
  it("saves 0600 without secrets and reloads to an equal config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "omstack-cfg-"));
    const file = join(dir, "omstack.yaml");
    await saveInstallConfig(file, config);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, "utf8");
    expect(text).toContain("password: ask");
    expect(text).toContain("adminPassword: generate");
    const back = await loadInstallConfig(file, noKeyCheck, defaults);
    expect(back).toEqual({ ...config, bypassedChecks: ["ntp.sync", "swap.off"] });
    // the file is also a valid inventory for `omstack probe -i` (the inventory loader allows cluster:)
    expect(renderInstallConfig(back)).toBe(text);
  });

  it("controlPlanes auto, no VIP, no bundle and the default state dir round-trip too", async () => {
    const c: InstallConfig = { ...config, controlPlanes: null, virtualIP: null, bundlePath: null, bypassedChecks: [], adminPassword: "ask", hosts: [config.hosts[1]!] };
    expect(await parseInstallConfig(renderInstallConfig(c), "omstack.yaml", noKeyCheck, defaults)).toEqual(c);
  });

  it("reports every mistake with its position: cluster and inventory problems together", async () => {
    const text = [
      "cluster:",
      "  name: AI_Prod",
      "  controlPlanes: 2",
      "  virtualIP: 10.0.0.999",
      "  adminPassword: hunter2hunter2",
      "  bundel: /x.tar",
      "hosts:",
      "  - name: a",
      "    address: 10.0.0.1",
      "    password: letmein",
      "",
    ].join("\n");
    const err = await parseInstallConfig(text, "omstack.yaml", noKeyCheck, defaults).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateOmstackError);
    const msgs = (err as AggregateOmstackError).errors.map((e) => `${e.location?.line}: ${e.message}`);
    expect(msgs).toEqual([
      expect.stringMatching(/^2: "AI_Prod" is not a valid cluster name/),
      "3: cluster.controlPlanes is 2; etcd needs an odd number",
      '4: cluster.virtualIP must be an IPv4 or IPv6 address, found "10.0.0.999"',
      '5: cluster.adminPassword must be "ask" or "generate", found a literal password',
      '6: unknown key "bundel" in cluster',
      '10: password must be "ask", found a literal password',
    ]);
    expect((err as AggregateOmstackError).errors[4]!.remedy).toContain('did you mean "bundle"');
    // the literal secrets are never echoed
    expect((err as AggregateOmstackError).format()).not.toMatch(/hunter2|letmein/);
  });

  it("a missing cluster section, a missing file and an unwritable folder are clear errors", async () => {
    const e1 = await parseInstallConfig("hosts:\n  - {name: a, address: 10.0.0.1}\n", "o.yaml", noKeyCheck, defaults).catch((e: unknown) => e);
    expect((e1 as OmstackError).message).toBe("the install config has no `cluster:` section");
    const e2 = await loadInstallConfig("/nonexistent/omstack.yaml", noKeyCheck, defaults).catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: "E_CONFIG_READ", message: "cannot read the install config /nonexistent/omstack.yaml: no such file" });
    const e3 = await saveInstallConfig("/nonexistent/dir/omstack.yaml", config).catch((e: unknown) => e);
    expect(e3).toMatchObject({ code: "E_CONFIG_WRITE" });
    const e4 = await parseInstallConfig("cluster: [\n", "o.yaml", noKeyCheck, defaults).catch((e: unknown) => e);
    expect(e4).toMatchObject({ code: "E_CONFIG_SYNTAX" });
  });
});

describe("install config: cluster network", () => {
  const text = (extra: string) => `cluster:\n  name: lab\n${extra}hosts:\n  - name: a\n    address: 10.0.0.1\n    user: root\n    agent: true\n`;
  it("reads podSubnet, serviceSubnet and controlPlaneEndpoint, and defaults them to null", async () => {
    const c = await parseInstallConfig(text("  podSubnet: 198.19.128.0/17\n  serviceSubnet: 198.19.16.0/20\n  controlPlaneEndpoint: api.lab\n"), "x.yaml", noKeyCheck, defaults);
    expect(c.network).toEqual({ podSubnet: "198.19.128.0/17", serviceSubnet: "198.19.16.0/20", controlPlaneEndpoint: "api.lab" });
    expect((await parseInstallConfig(text(""), "x.yaml", noKeyCheck, defaults)).network).toEqual({ podSubnet: null, serviceSubnet: null, controlPlaneEndpoint: null });
  });
  it("refuses bad ranges and overlaps with the line and a fix", async () => {
    const bad = async (extra: string) => {
      try {
        await parseInstallConfig(text(extra), "x.yaml", noKeyCheck, defaults);
      } catch (e) {
        return (e as Error & { location?: { line: number }; remedy?: string }).message + " | " + ((e as { remedy?: string }).remedy ?? "");
      }
      throw new Error("accepted");
    };
    expect(await bad("  podSubnet: 10.244.0.0\n")).toMatch(/podSubnet: not an IPv4 CIDR.*CIDR form/);
    expect(await bad("  podSubnet: 10.244.0.1/16\n")).toMatch(/host bits are set/);
    expect(await bad("  podSubnet: 10.244.0.0/24\n")).toMatch(/between \/8 and \/22/);
    expect(await bad("  serviceSubnet: 10.0.0.0/8\n")).toMatch(/between \/12 and \/28/);
    expect(await bad("  podSubnet: 10.0.0.0/16\n  serviceSubnet: 10.0.128.0/20\n")).toMatch(/overlaps cluster.podSubnet/);
    expect(await bad("  controlPlaneEndpoint: 'http://x:6443'\n")).toMatch(/host or host:port/);
  });
  it("cidr helpers agree with arithmetic", () => {
    expect(cidrProblem("198.19.128.0/17", 8, 22)).toBeNull();
    expect(cidrsOverlap("10.0.0.0/24", "10.0.1.0/24")).toBe(false);
    expect(cidrsOverlap("10.0.0.0/23", "10.0.1.0/24")).toBe(true);
  });
});
