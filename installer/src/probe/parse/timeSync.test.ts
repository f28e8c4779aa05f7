import { describe, expect, it } from "vitest";
import { parseChronyTracking } from "./chrony.js";
import { parseCaptures } from "./index.js";
import { capture } from "./testFixtures.js";
import { parseTimedatectl } from "./timedatectl.js";

describe("parseChronyTracking on real chronyc tracking outputs", () => {
  it.each([
    ["chrony-tracking-opensuse", true],
    ["chrony-tracking-2017", true],
    ["devvm-debian12-chrony-unsynced", false],
  ])("%s → synchronized %s", (variant, synced) => {
    expect(parseChronyTracking(capture(variant, "chronyc-tracking.txt"))).toEqual({
      value: { synchronized: synced, ntpService: "chronyd" },
      warnings: [],
    });
  });

  it("without the Leap status line the state is unknown, with a warning", () => {
    const text = capture("chrony-tracking-opensuse", "chronyc-tracking.txt").replace(/^Leap status.*$/m, "");
    const r = parseChronyTracking(text);
    expect(r.value.synchronized).toBeNull();
    expect(r.warnings).toHaveLength(1);
  });
});

describe("parseTimedatectl on real timedatectl (status) outputs", () => {
  it.each([
    ["timedatectl-status-unsynced", false],
    ["timedatectl-status-systemd-old", true],
  ])("%s → synchronized %s", (variant, synced) => {
    expect(parseTimedatectl(capture(variant, "timedatectl.txt"))).toEqual({ value: { synchronized: synced, ntpService: null }, warnings: [] });
  });
});

describe("time sync in parseCaptures", () => {
  it("an unsynchronised chrony is reported as not synchronised by chronyd", () => {
    const f = parseCaptures("h", new Map([["chronyc-tracking.txt", capture("devvm-debian12-chrony-unsynced", "chronyc-tracking.txt")]]));
    expect(f.system.timeSynchronized).toBe(false);
    expect(f.system.ntpService).toBe("chronyd");
  });

  it("timedatectl decides when it knows; chrony still names the service", () => {
    const f = parseCaptures(
      "h",
      new Map([
        ["timedatectl.txt", capture("timedatectl-status-unsynced", "timedatectl.txt")],
        ["chronyc-tracking.txt", capture("chrony-tracking-opensuse", "chronyc-tracking.txt")],
      ]),
    );
    expect(f.system.timeSynchronized).toBe(false);
    expect(f.system.ntpService).toBe("chronyd");
  });
});
