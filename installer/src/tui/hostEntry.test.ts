import { describe, expect, it } from "vitest";
import { parseHostEntries } from "./hostEntry.js";

describe("parseHostEntries", () => {
  it("expands a range, names hosts after the last number, and takes name=address and DNS names", () => {
    expect(parseHostEntries("10.0.0.11-13", [])).toEqual({ hosts: [
      { name: "node-11", address: "10.0.0.11" }, { name: "node-12", address: "10.0.0.12" }, { name: "node-13", address: "10.0.0.13" },
    ] });
    expect(parseHostEntries("gpu=10.0.1.5-6, cpu-01=10.0.2.9 db-01.dc.example", [])).toEqual({ hosts: [
      { name: "gpu-5", address: "10.0.1.5" }, { name: "gpu-6", address: "10.0.1.6" }, { name: "cpu-01", address: "10.0.2.9" }, { name: "db-01", address: "db-01.dc.example" },
    ] });
  });

  it("refuses bad input with a reason", () => {
    const err = (t: string, taken: { name: string; address: string }[] = []) => (parseHostEntries(t, taken) as { error: string }).error;
    expect(err("10.0.0.300")).toContain("0-255");
    expect(err("10.0.0.18-11")).toContain("must count up");
    expect(err("10.0.0.1-256")).toContain("0-255");
    expect(err("10.0.0.0-255")).toContain("256 hosts; at most 254");
    expect(err("bad_name=10.0.0.1")).toContain("not a valid host name");
    expect(err("root@10.0.0.1")).toContain("neither an address");
    expect(err("   ")).toContain("type an address");
    expect(err("10.0.0.11", [{ name: "x", address: "10.0.0.11" }])).toContain("already in the list (as x)");
    expect(err("10.1.0.11", [{ name: "node-11", address: "10.0.0.11" }])).toContain("host name node-11 is already used");
    expect(err("10.0.0.5 10.0.0.5")).toContain("host name node-5 is already used");
  });
});
