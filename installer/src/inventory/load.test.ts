import { describe, expect, it } from "vitest";
import { AggregateOmstackError, OmstackError } from "../errors.js";
import { parseInventory } from "./load.js";

const okKey = async (_path: string): Promise<string | null> => null;
const noKey = async (p: string): Promise<string | null> => (p.endsWith("missing") ? "no such file" : null);

async function fail(text: string, checkKey = okKey): Promise<OmstackError> {
  try {
    await parseInventory(text, "omstack.yaml", checkKey);
  } catch (e) {
    return e as OmstackError;
  }
  throw new Error("expected the inventory to be rejected");
}

function allErrors(e: OmstackError): OmstackError[] {
  return e instanceof AggregateOmstackError ? e.errors : [e];
}

describe("parseInventory", () => {
  it("accepts the documented minimal shape with defaults", async () => {
    const inv = await parseInventory(
      "hosts:\n  - name: gpu-01\n    address: 10.0.0.11\n    port: 22\n    user: root\n    identityFile: /keys/id_ed25519\n",
      "/etc/omstack/omstack.yaml",
      okKey,
    );
    expect(inv.hosts).toEqual([
      { name: "gpu-01", address: "10.0.0.11", port: 22, user: "root", auth: { kind: "key", identityFile: "/keys/id_ed25519" }, sudo: { enabled: false }, bastion: null, roles: [], labels: {}, wipe: [] },
    ]);
  });

  it("applies defaults, resolves relative key paths, and reads sudo, bastion, roles, labels", async () => {
    const inv = await parseInventory(
      [
        "defaults:",
        "  user: ops",
        "  identityFile: keys/id",
        "  sudo: {password: ask}",
        "  bastion: {address: jump.example.org, user: jump, agent: true}",
        "hosts:",
        "  - {name: cpu-01, address: 10.0.0.1, roles: [control-plane], labels: {rack: r1}}",
        "  - {name: cpu-02, address: 10.0.0.2, port: 2222, password: ask, wipe: [sdb]}",
      ].join("\n"),
      "/srv/site/omstack.yaml",
      okKey,
    );
    expect(inv.hosts[0]).toMatchObject({ user: "ops", auth: { kind: "key", identityFile: "/srv/site/keys/id" }, sudo: { enabled: true, askPassword: true }, roles: ["control-plane"], labels: { rack: "r1" } });
    expect(inv.hosts[0]!.bastion).toMatchObject({ address: "jump.example.org", user: "jump", port: 22, auth: { kind: "agent" } });
    expect(inv.hosts[1]).toMatchObject({ port: 2222, auth: { kind: "password" }, wipe: ["sdb"] });
  });

  it("rejects an unknown key with its line and column and a suggestion", async () => {
    const e = await fail("hosts:\n  - name: gpu-01\n    adress: 10.0.0.11\n");
    const errs = allErrors(e);
    const unknown = errs.find((x) => x.message.includes('unknown key "adress"'))!;
    expect(unknown.location).toEqual({ file: "omstack.yaml", line: 3, column: 5 });
    expect(unknown.remedy).toContain('did you mean "address"');
    expect(errs.some((x) => x.message.includes("has no address"))).toBe(true);
  });

  it("rejects duplicate names and addresses, pointing at the second one", async () => {
    const e = await fail("hosts:\n  - {name: a, address: 10.0.0.1}\n  - {name: A, address: 10.0.0.1}\n");
    const errs = allErrors(e);
    expect(errs.map((x) => x.code)).toEqual(["E_CONFIG_DUPLICATE", "E_CONFIG_DUPLICATE"]);
    expect(errs.every((x) => x.location?.line === 3)).toBe(true);
  });

  it.each([
    ["0", "from 1 to 65535"],
    ["70000", "from 1 to 65535"],
    ['"22"', "whole number"],
    ["22.5", "whole number"],
  ])("rejects port %s", async (port, text) => {
    const e = await fail(`hosts:\n  - name: a\n    address: 10.0.0.1\n    port: ${port}\n`);
    expect(e.code).toBe("E_CONFIG_SCHEMA");
    expect(e.message).toContain(text);
    expect(e.location).toMatchObject({ line: 4, column: 11 });
  });

  it("reports an unreadable key file at the identityFile value", async () => {
    const e = await fail("hosts:\n  - name: a\n    address: 10.0.0.1\n    identityFile: /nope/missing\n", noKey);
    expect(e.code).toBe("E_KEY_UNREADABLE");
    expect(e.message).toContain("/nope/missing");
    expect(e.location).toMatchObject({ line: 4, column: 19 });
  });

  it("never accepts a literal password", async () => {
    const e = await fail("hosts:\n  - {name: a, address: 10.0.0.1, password: hunter2}\n");
    expect(e.message).toContain("literal password");
    expect(e.message).not.toContain("hunter2");
    expect(e.remedy).toContain("password: ask");
  });

  it("rejects two auth methods, bad addresses, bad names, unknown roles", async () => {
    const errs = allErrors(
      await fail("hosts:\n  - {name: a, address: 10.0.0.300, agent: true, password: ask}\n  - {name: -bad-, address: 'root@host'}\n  - {name: c, address: 10.0.0.3, roles: [gpu, boss]}\n"),
    );
    const msgs = errs.map((e) => e.message).join("\n");
    expect(msgs).toContain("choose one way to authenticate");
    expect(msgs).toContain('"10.0.0.300" is not a valid IPv4 address');
    expect(msgs).toContain('host name "-bad-"');
    expect(msgs).toContain("neither an IP address nor a DNS name");
    expect(msgs).toContain('unknown role "boss"');
  });

  it("reports YAML syntax errors with a position", async () => {
    const e = await fail("hosts:\n  - name: a\n   address: [10.0.0.1\n");
    expect(e.code).toBe("E_CONFIG_SYNTAX");
    expect(e.location?.line).toBeGreaterThanOrEqual(2);
  });

  it("rejects a duplicate key in one mapping", async () => {
    const e = await fail("hosts:\n  - name: a\n    name: b\n    address: 10.0.0.1\n");
    expect(e.code).toBe("E_CONFIG_SYNTAX");
    expect(e.message).toContain("same key appears twice");
  });

  it("rejects an empty file, a list at the top and an empty host list", async () => {
    expect((await fail("")).message).toMatch(/mapping|no `hosts:`/);
    expect((await fail("- a\n- b\n")).message).toContain("must be a mapping");
    expect((await fail("hosts: []\n")).message).toContain("empty");
  });
});
