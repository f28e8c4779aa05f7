import { describe, expect, it } from "vitest";
import { compareVersions, diffComponents } from "./bundles.js";

describe("compareVersions", () => {
  it.each([
    ["1.10.0", "1.9.9", 1],
    ["v1.34.2", "1.34.2", 0],
    ["1.34.2", "1.35.0", -1],
    ["25.10.0", "25.3.0", 1],
    ["1.2", "1.2.1", -1],
  ])("%s vs %s", (a, b, sign) => expect(Math.sign(compareVersions(a, b))).toBe(sign));
});

describe("diffComponents", () => {
  it("classifies every component once", () => {
    expect(diffComponents({ a: "1.0", b: "2.0", c: "1.0", d: "3" }, { a: "1.1", b: "2.0", c: "0.9", e: "1" })).toEqual([
      { name: "a", from: "1.0", to: "1.1", change: "upgrade" },
      { name: "b", from: "2.0", to: "2.0", change: "same" },
      { name: "c", from: "1.0", to: "0.9", change: "downgrade" },
      { name: "d", from: "3", to: null, change: "remove" },
      { name: "e", from: null, to: "1", change: "add" },
    ]);
  });
});
