// The parsers on real outputs captured on the qemu VM (fixtures/SOURCE.md), and on broken input.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decideDisks, volumeGroupGaps } from "./lvm-layout.js";
import { descendants, parseLsblkJson, parsePvsJson, parseVgsJson, parseWipefsJson } from "./lvm-report.js";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");

describe("pvs/vgs --reportformat json", () => {
  it("reads PVs with their VG and device number", () => {
    expect(parsePvsJson(fixture("pvs-empty.json"))).toEqual([]);
    expect(parsePvsJson(fixture("pvs-orphan.json"))).toEqual([
      { pvName: "/dev/vdb", pvUuid: "dgCGnc-i5gR-eFyj-j6PV-7R2y-s31V-QzQl4B", vgName: "scratch", devnum: "254:16" },
      { pvName: "/dev/vdc", pvUuid: "0UDZMT-1z5v-I5o5-I0xv-UNd0-qjTE-S9n8D6", vgName: "", devnum: "254:32" },
    ]);
  });

  it("reads the step's own volume groups after the proof run on the VM", () => {
    const pvs = parsePvsJson(fixture("pvs-omstack-data.json"));
    expect(pvs.map((p) => [p.pvName, p.vgName])).toEqual([
      ["/dev/vdb", "omstack-data"],
      ["/dev/vdc", "omstack-data"],
    ]);
    expect(pvs.every((p) => /^254:\d+$/.test(p.devnum ?? ""))).toBe(true);
    expect(parseVgsJson(fixture("vgs-omstack-data.json"))).toEqual([{ vgName: "omstack-data", pvCount: 2, missingPvCount: 0 }]);
  });

  it("reads VGs and their missing-PV count", () => {
    expect(parseVgsJson(fixture("vgs-empty.json"))).toEqual([]);
    expect(parseVgsJson(fixture("vgs-one-vg.json"))).toEqual([{ vgName: "scratch", pvCount: 1, missingPvCount: 0 }]);
  });

  it("keeps no device number for a missing PV ([unknown], 0:0 or empty)", () => {
    const text = JSON.stringify({ report: [{ pv: [{ pv_name: "[unknown]", pv_uuid: "x", vg_name: "vg1", pv_major: "", pv_minor: "" }] }] });
    expect(parsePvsJson(text)).toEqual([{ pvName: "[unknown]", pvUuid: "x", vgName: "vg1", devnum: null }]);
  });

  it.each([
    ["not json at all", /cannot read/],
    ['{"nothing": 1}', /no "report" list/],
    ['{"report": [{"pv": {"a": 1}}]}', /is not a list/],
    ['{"report": [{"pv": ["x"]}]}', /row is not an object/],
  ])("refuses %j with E_STEP_OUTPUT", (text, why) => {
    expect(() => parsePvsJson(text)).toThrow(expect.objectContaining({ code: "E_STEP_OUTPUT", message: expect.stringMatching(why) }));
  });
});

describe("wipefs --json", () => {
  it("lists signatures, none on a clean disk", () => {
    expect(parseWipefsJson(fixture("wipefs-empty.json"))).toEqual([]);
    expect(parseWipefsJson("")).toEqual([]);
    expect(parseWipefsJson(fixture("wipefs-ext4.json"))).toEqual([{ device: "vdd", offset: "0x438", type: "ext4" }]);
    expect(parseWipefsJson(fixture("wipefs-pv.json"))).toEqual([{ device: "vdb", offset: "0x218", type: "LVM2_member" }]);
    expect(parseWipefsJson(fixture("wipefs-gpt.json")).map((s) => s.type)).toEqual(["gpt", "gpt", "PMBR"]);
  });
  it("refuses output that is not wipefs JSON", () => {
    expect(() => parseWipefsJson("wipefs: error: /dev/vdx: probing initialization failed")).toThrow(expect.objectContaining({ code: "E_STEP_OUTPUT" }));
  });
});

describe("lsblk --json", () => {
  it("reads a disk's tree: partitions, holders and mounts", () => {
    expect(parseLsblkJson(fixture("lsblk-empty.json"))).toEqual({ name: "vdc", type: "disk", fstype: null, pttype: null, mountpoints: [], children: [] });
    expect(parseLsblkJson(fixture("lsblk-ext4.json"))).toMatchObject({ name: "vdd", fstype: "ext4", children: [] });
    expect(parseLsblkJson(fixture("lsblk-root-mounted.json"))).toMatchObject({ name: "vda", mountpoints: ["/"] });
    const pv = parseLsblkJson(fixture("lsblk-pv-with-mounted-lv.json"))!;
    expect(descendants(pv)).toEqual([{ name: "scratch-lv1", type: "lvm", fstype: "ext4", pttype: null, mountpoints: ["/mnt/lv1"], children: [] }]);
    const parted = parseLsblkJson(fixture("lsblk-partitioned.json"))!;
    expect(parted).toMatchObject({ name: "vdc", pttype: "gpt" });
    expect(parted.children.map((c) => [c.name, c.type, c.fstype])).toEqual([
      ["vdc1", "part", "ext4"],
      ["vdc2", "part", null],
    ]);
  });
});

describe("decisions on the real outputs", () => {
  const planned = (name: string, wipe: boolean) => ({ name, vg: "omstack-data", wipe });
  const survey = (devnum: string, lsblk: string, wipefs: string) => ({ devnum, tree: parseLsblkJson(fixture(lsblk)), signatures: parseWipefsJson(fixture(wipefs)) });

  it("the partitioned disk is erased only with wipe: true, partitions first; the ext4 disk is refused", () => {
    const surveys = new Map([
      ["vdc", survey("254:32", "lsblk-partitioned.json", "wipefs-gpt.json")],
      ["vdd", survey("254:48", "lsblk-ext4.json", "wipefs-ext4.json")],
    ]);
    const pvs = parsePvsJson(fixture("pvs-empty.json"));
    const ok = decideDisks("vm", [planned("vdc", true)], surveys, pvs, []);
    expect(ok).toEqual({ actions: [{ disk: planned("vdc", true), kind: "erase", holds: "2 partitions (vdc1, vdc2), a gpt partition table, a PMBR partition table", eraseOrder: ["vdc1", "vdc2", "vdc"] }], refusals: [] });
    const no = decideDisks("vm", [planned("vdc", false), planned("vdd", false)], surveys, pvs, []);
    expect(no.actions).toEqual([]);
    expect(no.refusals.map((r) => [r.code, r.message])).toEqual([
      ["E_LVM_DISK_IN_USE", expect.stringContaining("/dev/vdc (planned for volume group omstack-data) holds 2 partitions (vdc1, vdc2)")],
      ["E_LVM_DISK_IN_USE", expect.stringContaining("/dev/vdd (planned for volume group omstack-data) holds a ext4 signature")],
    ]);
  });

  it("a PV whose LV is mounted is busy even with wipe: true; the mounted root disk too", () => {
    const surveys = new Map([
      ["vdb", survey("254:16", "lsblk-pv-with-mounted-lv.json", "wipefs-pv.json")],
      ["vda", survey("254:0", "lsblk-root-mounted.json", "wipefs-empty.json")],
    ]);
    const r = decideDisks("vm", [planned("vdb", true), planned("vda", true)], surveys, parsePvsJson(fixture("pvs-one-vg.json")), parseVgsJson(fixture("vgs-one-vg.json")));
    expect(r.actions).toEqual([]);
    expect(r.refusals.map((x) => x.code)).toEqual(["E_LVM_DISK_BUSY", "E_LVM_DISK_BUSY"]);
    expect(r.refusals[0]!.message).toContain("scratch-lv1 is mounted at /mnt/lv1; in use by scratch-lv1 (lvm)");
    expect(r.refusals[1]!.message).toContain("vda is mounted at /");
  });

  it("after the proof run, the gaps are none and an orphan PV is finished without pvcreate", () => {
    const pvs = parsePvsJson(fixture("pvs-omstack-data.json"));
    const devnums = new Map(pvs.map((p) => [p.pvName.replace("/dev/", ""), p.devnum]));
    expect(volumeGroupGaps([planned("vdb", false), planned("vdc", true)], devnums, pvs, parseVgsJson(fixture("vgs-omstack-data.json")))).toEqual([]);
    expect(volumeGroupGaps([planned("vdb", false)], devnums, pvs, [])).toEqual(["volume group omstack-data also holds /dev/vdc, which the plan does not give it"]);
    const orphan = parsePvsJson(fixture("pvs-orphan.json"));
    const r = decideDisks("vm", [planned("vdc", false)], new Map([["vdc", survey("254:32", "lsblk-empty.json", "wipefs-empty.json")]]), orphan, []);
    expect(r).toEqual({ actions: [{ disk: planned("vdc", false), kind: "orphan-pv" }], refusals: [] });
  });
});
