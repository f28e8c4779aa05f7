import { describe, expect, it } from "vitest";
import { comparePaths, pathProblem, resolveLinkTarget } from "./paths.js";

describe("pathProblem", () => {
  it.each([
    ["bin/kubectl", null],
    ["images/blobs/sha256/" + "a".repeat(64), null],
    ["charts/omstack-test-0.1.0.tgz", null],
  ])("accepts %s", (p, want) => expect(pathProblem(p)).toBe(want));

  it.each([
    ["", /empty/],
    ["/etc/passwd", /absolute/],
    ["../evil", /climbs/],
    ["bin/../../evil", /climbs/],
    ["bin//x", /empty or '.'/],
    ["./bin/x", /empty or '.'/],
    ["bin/x/", /empty or '.'/],
    ["C:/x", /Windows/],
    ["bin\\x", /Windows/],
    ["bin/a b", /characters/],
    ["bin/x\0y", /NUL/],
  ])("refuses %j", (p, re) => expect(pathProblem(p)).toMatch(re));
});

describe("resolveLinkTarget", () => {
  it("keeps links inside the root", () => {
    expect(resolveLinkTarget("bin/hello", "omstack-hello")).toBe("bin/omstack-hello");
    expect(resolveLinkTarget("bin/x", "../images/index.json")).toBe("images/index.json");
  });
  it("refuses links that leave the root or are absolute", () => {
    expect(resolveLinkTarget("bin/x", "../../etc/passwd")).toBeNull();
    expect(resolveLinkTarget("x", "..")).toBeNull();
    expect(resolveLinkTarget("bin/x", "/etc/passwd")).toBeNull();
    expect(resolveLinkTarget("bin/x", "..")).toBeNull();
  });
});

describe("comparePaths", () => {
  it("orders bytewise (upper case before lower case, '-' before '/')", () => {
    expect(["b", "B", "a-b", "a/b"].sort(comparePaths)).toEqual(["B", "a-b", "a/b", "b"]);
  });
});
