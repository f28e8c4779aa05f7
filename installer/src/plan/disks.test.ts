import { describe, expect, it } from "vitest";
import type { DiskFacts } from "../probe/facts.js";
import { layoutDisks, systemMount } from "./disks.js";

const disk = (name: string, extra: Partial<DiskFacts> = {}): DiskFacts => ({ name, sizeBytes: 1920 * 10 ** 9, rotational: false, transport: "nvme", type: "disk", model: null, fstype: null, mountpoints: [], children: [], ...extra });
const part = (name: string, mountpoints: string[], fstype = "ext4"): DiskFacts => ({ ...disk(name), type: "part", fstype, mountpoints });

describe("disk layout safety", () => {
  it("finds system mountpoints on the disk or any partition", () => {
    expect(systemMount(disk("sda", { children: [part("sda1", ["/boot/efi"], "vfat"), part("sda2", ["/"])] }))).toBe("/boot/efi");
    expect(systemMount(disk("sdb", { children: [part("sdb1", ["[SWAP]"], "swap")] }))).toBe("[SWAP]");
    expect(systemMount(disk("sdc", { children: [part("sdc1", ["/data"])] }))).toBeNull();
  });

  it("never erases the system disk, even when listed under wipe:", () => {
    const [sys, data, empty] = layoutDisks(
      [disk("nvme0n1", { children: [part("nvme0n1p1", ["/"])] }), disk("nvme1n1", { children: [part("nvme1n1p1", ["/data"])] }), disk("nvme2n1")],
      ["nvme0n1", "nvme1n1"],
      { cache: true, shuffle: true },
    );
    expect(sys).toMatchObject({ name: "nvme0n1", wipe: false, use: null });
    expect(sys!.reason).toContain("holds the running system (/)");
    expect(data).toMatchObject({ name: "nvme1n1", wipe: true });
    expect(data!.use).not.toBeNull();
    expect(empty).toMatchObject({ name: "nvme2n1", wipe: false });
    expect(empty!.use).not.toBeNull();
  });

  it("leaves an in-use disk alone unless it is listed", () => {
    const [d] = layoutDisks([disk("sdb", { fstype: "LVM2_member" })], [], { cache: true, shuffle: false });
    expect(d).toMatchObject({ wipe: false, use: null });
    expect(d!.reason).toContain("LVM metadata");
  });
});

describe("RAM-backed block devices", () => {
  it("leaves the dev VM's real zram0 out of the layout and the disk labels", async () => {
    const { parseLsblk } = await import("../probe/parse/lsblk.js");
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { factLabels } = await import("./labels.js");
    const { emptyFacts } = await import("../probe/facts.js");
    const disks = parseLsblk(readFileSync(join(import.meta.dirname, "../../../tests/fixtures/captures/devvm-debian12/lsblk.json"), "utf8")).value;
    const zram = disks.find((d) => d.name === "zram0");
    expect(zram?.type).toBe("disk");
    const planned = layoutDisks(disks, ["zram0"], { cache: true, shuffle: true });
    expect(planned.find((d) => d.name === "zram0")).toMatchObject({ use: null, wipe: false, reason: expect.stringContaining("RAM-backed") });
    const labels = factLabels({ ...emptyFacts("vm"), disks });
    expect(Object.keys(labels).filter((k) => k.includes("disk."))).toEqual([]);
    const plus = factLabels({ ...emptyFacts("vm"), disks: [...disks, disk("nvme9n1")] });
    expect(plus["omstack.io/disk.nvme"]).toBe("1");
  });
});
