import { describe, expect, it } from "vitest";
import { parseCapSysResource, parseCgroupFs } from "./kernelFeatures.js";
import { capture } from "./testFixtures.js";

describe("cgroup filesystem", () => {
  it("reads the dev VM's real capture as cgroup v1", () => {
    expect(parseCgroupFs(capture("devvm-debian12", "cgroup-fs.txt"))).toEqual({ value: 1, warnings: [] });
  });
  it("knows the unified hierarchy", () => {
    expect(parseCgroupFs("cgroup2fs\n").value).toBe(2);
  });
  it("warns on anything else", () => {
    const r = parseCgroupFs("ext2/ext3\n");
    expect(r.value).toBeNull();
    expect(r.warnings[0]?.message).toMatch(/unexpected filesystem type/);
  });
});

describe("capabilities", () => {
  it("finds CAP_SYS_RESOURCE missing in the dev VM's real capture", () => {
    expect(parseCapSysResource(capture("devvm-debian12", "capabilities.txt"))).toEqual({ value: false, warnings: [] });
  });
  it("finds it in a full set and prefers CapEff over CapBnd", () => {
    expect(parseCapSysResource("CapEff:\t000001ffffffffff\nCapBnd:\t000001fffeffffff\n").value).toBe(true);
    expect(parseCapSysResource("CapBnd:\t000001ffffffffff\n").value).toBe(true);
  });
  it("is null without a readable line, with a warning for garbage", () => {
    expect(parseCapSysResource("").value).toBeNull();
    expect(parseCapSysResource("CapEff: zz\n").warnings).toHaveLength(1);
  });
});
