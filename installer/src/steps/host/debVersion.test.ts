// compareDebVersions against the real `dpkg --compare-versions` of this machine, on the lab bundle's version strings
// (epochs, ~ds1, +b2, +deb12uN, ~deb12u2) and newer/older neighbours a security update or a backport would bring.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { compareDebVersions, parseDebVersion } from "./debVersion.js";

/** The lab bundle's packages/debian versions (omstack bundle inspect), each with versions around it. */
const PAIRS: [string, string][] = [
  ["1:1.4.7-1+b2", "1:1.4.7-1+b3"],
  ["1:1.4.7-1+b2", "1.4.8-1"], // an epoch beats any upstream
  ["1:1.4.7-1+b2", "1:1.4.7-1"],
  ["1.6.20~ds1-1+deb12u3", "1.6.20~ds1-1+deb12u4"],
  ["1.6.20~ds1-1+deb12u3", "1.6.20-1"], // ~ sorts before the end
  ["1.6.20~ds1-1+deb12u3", "1.6.20~ds1-1"],
  ["1.6.20~ds1-1+deb12u3", "1.7.24~ds1-6"],
  ["1.1.1+ds1-3+b5", "1.1.1+ds1-3+b10"], // numbers compare as numbers
  ["1.1.1+ds1-3+b5", "1.4.0-1"],
  ["1.8.9-2", "1.8.9-2+b1"],
  ["1.8.9-2", "1.8.10-1"],
  ["1.20.1-2+deb12u5", "1.20.1-2+deb12u4"],
  ["1.20.1-2+deb12u5", "1.21.3-5"],
  ["1.0.4-3", "1.0.4-3.1"],
  ["1.0.9-3", "1.0.9-3"],
  ["3.0.20-1~deb12u2", "3.0.20-1"],
  ["3.0.20-1~deb12u2", "3.0.20-1~deb12u1"],
  ["3.0.20-1~deb12u2", "3.0.17-1~deb12u3"],
  ["3.0.20-1~deb12u2", "3.5.1-1"],
  ["1.3.3+ds-1", "1.3.3+ds-1+b1"],
  ["7.6.q-32", "7.6.q-33"],
  ["7.6.q-32", "7.6.r-1"],
  ["6.4", "6.4+nmu1"],
  ["6.4", "6.4-0"], // a missing revision equals "0"
  ["1.1.5+ds1-1+deb12u1", "1.1.15+ds1-2"],
  ["1.7.4.4-2", "1.8.0.0-1"],
  ["1.0~rc1", "1.0"],
  ["1.0a", "1.0+"],
  ["2:1.0", "10:0.1"],
];

function dpkg(a: string, op: "lt" | "eq" | "gt", b: string): boolean {
  try {
    execFileSync("dpkg", ["--compare-versions", a, op, b], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const sign = (n: number) => (n < 0 ? "lt" : n > 0 ? "gt" : "eq");

describe("Debian version comparison", () => {
  it.each(PAIRS)("%s vs %s: same verdict as dpkg --compare-versions, both ways", (a, b) => {
    const va = parseDebVersion(a)!;
    const vb = parseDebVersion(b)!;
    expect(va, a).not.toBeNull();
    expect(vb, b).not.toBeNull();
    const ours = sign(compareDebVersions(va, vb));
    expect(dpkg(a, ours, b), `dpkg says ${a} is not ${ours} ${b}`).toBe(true);
    expect(sign(compareDebVersions(vb, va))).toBe(ours === "lt" ? "gt" : ours === "gt" ? "lt" : "eq");
  });

  it("splits epoch, upstream and revision, and refuses what is not a version", () => {
    expect(parseDebVersion("1:1.4.7-1+b2")).toEqual({ epoch: 1, upstream: "1.4.7", revision: "1+b2" });
    expect(parseDebVersion("1.6.20~ds1-1+deb12u3")).toEqual({ epoch: 0, upstream: "1.6.20~ds1", revision: "1+deb12u3" });
    expect(parseDebVersion("6.4")).toEqual({ epoch: 0, upstream: "6.4", revision: "" });
    for (const bad of ["", "a1.0", "1.0 2", "x:1.0", "1.0-", "1.0-r_1"]) expect(parseDebVersion(bad), bad).toBeNull();
  });
});
