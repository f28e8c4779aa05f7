// storage.lvm-volume-groups on in-memory hosts whose LVM answers like the real one (same JSON shapes as the VM's
// captured fixtures): decisions, refusals before any change, idempotence, and the dry-run lines. The real thing runs on
// the qemu VM (tests/lab/vm/prove-lvm.ts).
import { describe, expect, it } from "vitest";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import type { StepIo } from "../../executor/ports.js";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import { testNode, testPlan } from "../../plan/testing.js";
import type { PlanDisk } from "../../plan/types.js";
import { decideDisks, plannedDisks, volumeGroupGaps } from "./lvm-layout.js";
import { AVAILABILITY_SCRIPT, lvmUnavailable, storageLvmVolumeGroups } from "./lvm-volume-groups.js";
import { PVS_COMMAND, VGS_COMMAND } from "./lvm-report.js";

const io = (notes: string[] = []): StepIo => ({ log: () => {}, note: (m) => notes.push(m) });

interface FakeDisk {
  devnum: string;
  signatures: string[];
  parts: { name: string; fstype: string | null; mount: string | null }[];
  holders: { name: string; type: string; mount: string | null }[];
  mount: string | null;
  pv: { uuid: string; vg: string } | null;
}

/** A host's disks and an LVM that answers the step's exact commands, changing state on wipefs -a/pvcreate/vgcreate/vgextend. */
class FakeLvm {
  disks = new Map<string, FakeDisk>();
  tools = true;
  dm = true;
  private n = 0;
  add(name: string, over: Partial<FakeDisk> = {}): void {
    this.disks.set(name, { devnum: `254:${16 * (this.disks.size + 1)}`, signatures: [], parts: [], holders: [], mount: null, pv: null, ...over });
  }
  install(hosts: MemoryHosts, host: string): void {
    for (const [name, d] of this.disks) hosts.put(host, `/sys/class/block/${name}/dev`, `${d.devnum}\n`);
    hosts.commandHandler = (_h, cmd) => this.answer(cmd);
  }
  private devOf(arg: string): [string, FakeDisk] {
    const name = arg.replace(/^'\/dev\/|'$/g, "");
    const d = this.disks.get(name);
    if (!d) throw new Error(`fake lvm: no disk ${name}`);
    return [name, d];
  }
  answer(cmd: string): { stdout?: string; stderr?: string; exitCode?: number } | undefined {
    if (cmd === AVAILABILITY_SCRIPT) return { stdout: (this.tools ? "" : "pvs\nvgs\npvcreate\nvgcreate\nvgextend\n") + (this.dm ? "" : "@no-device-mapper\n") };
    if (cmd === PVS_COMMAND) {
      const pv = [...this.disks].filter(([, d]) => d.pv).map(([n, d]) => ({ pv_name: `/dev/${n}`, pv_uuid: d.pv!.uuid, vg_name: d.pv!.vg, pv_major: d.devnum.split(":")[0], pv_minor: d.devnum.split(":")[1] }));
      return { stdout: JSON.stringify({ report: [{ pv }] }) };
    }
    if (cmd === VGS_COMMAND) {
      const vgs = new Map<string, number>();
      for (const d of this.disks.values()) if (d.pv?.vg) vgs.set(d.pv.vg, (vgs.get(d.pv.vg) ?? 0) + 1);
      return { stdout: JSON.stringify({ report: [{ vg: [...vgs].map(([vg_name, n]) => ({ vg_name, pv_count: String(n), vg_missing_pv_count: "0" })) }] }) };
    }
    let m = /^lsblk --json -o \S+ (\S+)$/.exec(cmd);
    if (m) {
      const [name, d] = this.devOf(m[1]!);
      const children = [
        ...d.parts.map((p) => ({ name: p.name, type: "part", fstype: p.fstype, pttype: "gpt", mountpoints: [p.mount] })),
        ...d.holders.map((h) => ({ name: h.name, type: h.type, fstype: null, pttype: null, mountpoints: [h.mount] })),
      ];
      const fstype = d.pv ? "LVM2_member" : (d.signatures.find((s) => s !== "gpt" && s !== "PMBR") ?? null);
      return { stdout: JSON.stringify({ blockdevices: [{ name, type: "disk", fstype, pttype: d.signatures.includes("gpt") ? "gpt" : null, mountpoints: [d.mount], ...(children.length ? { children } : {}) }] }) };
    }
    m = /^wipefs --no-act --json (\S+)$/.exec(cmd);
    if (m) {
      const [name, d] = this.devOf(m[1]!);
      const sigs = [...d.signatures, ...(d.pv ? ["LVM2_member"] : [])];
      return { stdout: JSON.stringify({ signatures: sigs.map((type) => ({ device: name, offset: "0x0", type, uuid: null, label: null })) }) };
    }
    m = /^wipefs -a (.+)$/.exec(cmd);
    if (m) {
      for (const arg of m[1]!.split(" ")) {
        const name = arg.replace(/^'\/dev\/|'$/g, "");
        const d = this.disks.get(name);
        if (d) Object.assign(d, { signatures: [], parts: [], pv: null });
      }
      return undefined;
    }
    m = /^pvcreate (.+)$/.exec(cmd);
    if (m) {
      for (const arg of m[1]!.split(" ")) {
        const [, d] = this.devOf(arg);
        if (d.signatures.length || d.parts.length) return { exitCode: 5, stderr: "signature found" };
        d.pv = { uuid: `uuid-${++this.n}`, vg: "" };
      }
      return undefined;
    }
    m = /^(vgcreate|vgextend) '([^']+)' (.+)$/.exec(cmd);
    if (m) {
      const exists = [...this.disks.values()].some((d) => d.pv?.vg === m![2]);
      if ((m[1] === "vgcreate") === exists) return { exitCode: 5, stderr: `${m[1]}: volume group ${m[2]} ${exists ? "exists" : "not found"}` };
      for (const arg of m[3]!.split(" ")) {
        const [, d] = this.devOf(arg);
        if (!d.pv || d.pv.vg) return { exitCode: 5, stderr: "not an orphan PV" };
        d.pv.vg = m[2]!;
      }
      return undefined;
    }
    return { exitCode: 127, stderr: `fake lvm: unexpected command ${cmd}` };
  }
}

const disk = (name: string, use: string | null, wipe = false): PlanDisk => ({ name, sizeBytes: 2 ** 31, class: "ssd", use, wipe, reason: "test" });

async function setup(lvm: FakeLvm, disks: PlanDisk[]) {
  const hosts = new MemoryHosts(["n1"]);
  lvm.install(hosts, "n1");
  const step = storageLvmVolumeGroups();
  const plan = testPlan([testNode("n1", { disks }), testNode("n2", { disks: [disk("sdb", null)] })]);
  expect(step.targets(plan)).toEqual(["n1"]);
  const h = await hosts.open("n1");
  return { hosts, step, reader: (notes?: string[]) => soloReader(h.reader(io(notes))), writer: (notes?: string[]) => soloWriter(h.writer(io(notes))) };
}

const runs = (hosts: MemoryHosts) => hosts.writes.filter((w) => w.op === "run").map((w) => w.target);

describe("storage.lvm-volume-groups", () => {
  it("creates the VG on empty disks, then check says done and a second apply changes nothing", async () => {
    const lvm = new FakeLvm();
    lvm.add("vda", { mount: "/" });
    lvm.add("vdb");
    lvm.add("vdc");
    const { hosts, step, reader, writer } = await setup(lvm, [disk("vda", null), disk("vdb", "omstack-data"), disk("vdc", "omstack-data")]);
    expect(await step.check(reader())).toEqual({ pending: "/dev/vdb is not an LVM physical volume; /dev/vdc is not an LVM physical volume" });
    await step.apply(writer());
    expect(runs(hosts)).toEqual(["pvcreate '/dev/vdb' '/dev/vdc'", "vgcreate 'omstack-data' '/dev/vdb' '/dev/vdc'"]);
    expect(await step.check(reader())).toBe("done");
    await expect(step.verify(reader())).resolves.toBeUndefined();
    await step.apply(writer());
    expect(runs(hosts)).toHaveLength(2);
    // vda (the system disk, not in any VG) was never named in a command
    expect(hosts.queries.concat(hosts.writes.map((w) => ({ host: w.host, command: w.target }))).some((q) => q.command.includes("vda"))).toBe(false);
  });

  it("extends an existing VG with the missing disk and finishes an orphan PV left by a crash", async () => {
    const lvm = new FakeLvm();
    lvm.add("vdb", { pv: { uuid: "a", vg: "omstack-data" } });
    lvm.add("vdc", { pv: { uuid: "b", vg: "" } });
    lvm.add("vdd");
    const { hosts, step, writer, reader } = await setup(lvm, [disk("vdb", "omstack-data"), disk("vdc", "omstack-data"), disk("vdd", "omstack-local")]);
    await step.apply(writer());
    expect(runs(hosts)).toEqual(["pvcreate '/dev/vdd'", "vgextend 'omstack-data' '/dev/vdc'", "vgcreate 'omstack-local' '/dev/vdd'"]);
    expect(await step.check(reader())).toBe("done");
  });

  it("refuses a disk with a filesystem (wipe false) and a mounted one (even with wipe), before changing any disk", async () => {
    const lvm = new FakeLvm();
    lvm.add("vdb");
    lvm.add("vdc", { signatures: ["ext4"] });
    lvm.add("vdd", { signatures: ["gpt", "PMBR"], parts: [{ name: "vdd1", fstype: "xfs", mount: "/data" }] });
    const { hosts, step, writer } = await setup(lvm, [disk("vdb", "omstack-data"), disk("vdc", "omstack-data"), disk("vdd", "omstack-data", true)]);
    const err = await step.apply(writer()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "E_LVM_DISK_IN_USE", host: "n1" });
    const msg = (err as Error).message;
    expect(msg).toContain("/dev/vdc (planned for volume group omstack-data) holds a ext4 signature, and the plan does not say to erase it; it was left untouched");
    expect(msg).toContain("/dev/vdd (planned for volume group omstack-data) is in use: vdd1 is mounted at /data");
    expect(runs(hosts)).toEqual([]);
    expect(lvm.disks.get("vdc")!.signatures).toEqual(["ext4"]);
  });

  it("erases a disk only when the plan says wipe, partitions first, and says so", async () => {
    const lvm = new FakeLvm();
    lvm.add("vdc", { signatures: ["gpt", "PMBR"], parts: [{ name: "vdc1", fstype: "ext4", mount: null }, { name: "vdc2", fstype: null, mount: null }] });
    const notes: string[] = [];
    const { hosts, step, writer, reader } = await setup(lvm, [disk("vdc", "omstack-local", true)]);
    await step.apply(writer(notes));
    expect(runs(hosts)).toEqual(["wipefs -a '/dev/vdc1' '/dev/vdc2' '/dev/vdc'", "pvcreate '/dev/vdc'", "vgcreate 'omstack-local' '/dev/vdc'"]);
    expect(notes).toEqual(["erasing /dev/vdc as the plan says (wipe: true); it held 2 partitions (vdc1, vdc2), a gpt partition table, a PMBR partition table"]);
    expect(await step.check(reader())).toBe("done");
    // wipe: true on a disk that is already in its VG erases nothing on the next run
    await step.apply(writer(notes));
    expect(runs(hosts)).toHaveLength(3);
  });

  it("refuses a PV of another VG without wipe, and a planned VG that holds a disk outside the plan", async () => {
    const lvm = new FakeLvm();
    lvm.add("vdb", { pv: { uuid: "a", vg: "legacy" } });
    lvm.add("vdc");
    lvm.add("vdz", { pv: { uuid: "z", vg: "omstack-data" } });
    const { hosts, step, writer, reader } = await setup(lvm, [disk("vdb", "omstack-data"), disk("vdc", "omstack-data")]);
    const err = (await step.apply(writer()).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: "E_LVM_DISK_IN_USE" });
    expect(err.message).toContain("holds LVM metadata of volume group legacy");
    expect(err.message).toContain("volume group omstack-data already exists with /dev/vdz, which the plan does not give it");
    expect(runs(hosts)).toEqual([]);
    expect(await step.check(reader())).toEqual({
      pending: "/dev/vdb is a PV of volume group legacy, not omstack-data; /dev/vdc is not an LVM physical volume; volume group omstack-data also holds /dev/vdz, which the plan does not give it",
    });
  });

  it("refuses a planned disk the host does not have", async () => {
    const lvm = new FakeLvm();
    const { step, writer } = await setup(lvm, [disk("nvme9n1", "omstack-cache")]);
    await expect(step.apply(writer())).rejects.toMatchObject({ code: "E_LVM_DISK_MISSING", message: expect.stringContaining("/dev/nvme9n1 (planned for volume group omstack-cache) does not exist") });
  });

  it("without lvm2 or device-mapper: check pending, apply fails with the remedy", async () => {
    const lvm = new FakeLvm();
    lvm.add("vdb");
    lvm.tools = false;
    lvm.dm = false;
    const { step, writer, reader } = await setup(lvm, [disk("vdb", "omstack-data")]);
    expect(await step.check(reader())).toEqual({ pending: expect.stringContaining("the tools pvs, vgs, pvcreate, vgcreate, vgextend are not installed; the kernel has no device-mapper") });
    await expect(step.apply(writer())).rejects.toMatchObject({ code: "E_LVM_UNAVAILABLE", remedy: expect.stringContaining("install lvm2") });
  });

  it("describes each disk, whether it will be erased, and the disks it never touches", async () => {
    const lvm = new FakeLvm();
    const { step, reader } = await setup(lvm, [disk("vda", null), disk("vdb", "omstack-data"), disk("vdc", "omstack-data", true)]);
    const lines = step.describe(reader());
    expect(lines[0]).toMatch(/^volume group omstack-data: exactly \/dev\/vdb, \/dev\/vdc/);
    expect(lines[1]).toMatch(/^ {2}\/dev\/vdb: not erased/);
    expect(lines[2]).toMatch(/^ {2}\/dev\/vdc: WILL BE ERASED \(plan says wipe: true\)/);
    expect(lines[3]).toBe("never touched (not in the plan's volume groups): /dev/vda");
  });

  it("rejects plan disk names and VG names that could not be passed to LVM", () => {
    expect(() => plannedDisks({ host: "h", disks: [disk("../sda", "vg")] })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
    expect(() => plannedDisks({ host: "h", disks: [disk("sdb", "-vg")] })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
    expect(() => plannedDisks({ host: "h", disks: [disk("sdb", "vg"), disk("sdb", "vg")] })).toThrow(expect.objectContaining({ message: expect.stringContaining("listed twice") }));
    expect(plannedDisks({ host: "h", disks: [disk("sda", null), disk("sdb", "omstack-local", true)] })).toEqual([{ name: "sdb", vg: "omstack-local", wipe: true }]);
  });

  it("availability output → sentence", () => {
    expect(lvmUnavailable("")).toBeNull();
    expect(lvmUnavailable("pvcreate\n")).toBe("the tools pvcreate are not installed");
  });

  it("pure decisions: a missing-PV VG is refused, gaps name it", () => {
    const planned = [{ name: "vdb", vg: "vg1", wipe: false }];
    const pvs = [{ pvName: "/dev/vdb", pvUuid: "a", vgName: "vg1", devnum: "254:16" }];
    const vgs = [{ vgName: "vg1", pvCount: 2, missingPvCount: 1 }];
    expect(volumeGroupGaps(planned, new Map([["vdb", "254:16"]]), pvs, vgs)).toEqual(["volume group vg1 misses 1 physical volume(s)"]);
    const d = decideDisks("h", planned, new Map([["vdb", { devnum: "254:16", tree: null, signatures: [] }]]), pvs, vgs);
    expect(d.actions).toEqual([{ disk: planned[0], kind: "member" }]);
    expect(d.refusals.map((r) => r.code)).toEqual(["E_LVM_VG_FOREIGN"]);
  });
});
