// Host lock owner files: written and read back, garbage rejected, identity per state directory.
import { describe, expect, it } from "vitest";
import { formatOwner, installerId, parseOwner } from "./hostLock.js";
import { processAlive, processStartTime } from "./processInfo.js";

describe("host lock owner", () => {
  it("round-trips and rejects what is not an owner file", () => {
    const o = { installer: "deploy-01/0123456789ab", pid: 4242, pidStart: "123456", run: 7, started: "2026-01-01T00:00:00.000Z" };
    expect(parseOwner(formatOwner(o))).toEqual(o);
    expect(parseOwner("")).toBeNull();
    expect(parseOwner("installer=x\npid=abc\nrun=1\n")).toBeNull();
    expect(parseOwner("\u0000\u0001garbage")).toBeNull();
  });
  it("differs between state directories of one machine", () => {
    expect(installerId("/var/lib/omstack")).not.toBe(installerId("/tmp/other"));
    expect(installerId("/var/lib/omstack")).toBe(installerId("/var/lib/omstack"));
  });
  it("knows this process is alive and a PID with another start time is not the same process", () => {
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(processAlive(process.pid, start)).toBe(true);
    expect(processAlive(process.pid, "1")).toBe(false);
    expect(processAlive(2 ** 22 + 12345, null)).toBe(false);
  });
});
