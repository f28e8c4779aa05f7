import { describe, expect, it } from "vitest";
import { parseOsRelease } from "./osRelease.js";
import { capture } from "./testFixtures.js";

describe("parseOsRelease on real os-release files", () => {
  it.each([
    ["os-release-ubuntu-18.04", "ubuntu", "18.04", "Ubuntu 18.04.3 LTS", ["debian"]],
    ["os-release-rocky-8.3", "rocky", "8.3", "Rocky Linux 8.3", ["rhel", "fedora"]],
    ["os-release-openeuler-20.03", "openEuler", "20.03", "openEuler 20.03 (LTS)", []],
    ["os-release-debian-10", "debian", "10", "Debian GNU/Linux 10 (buster)", []],
  ])("%s", (variant, id, versionId, prettyName, idLike) => {
    const r = parseOsRelease(capture(variant, "os-release"));
    expect(r.value).toEqual({ id, versionId, prettyName, idLike });
    expect(r.warnings).toEqual([]);
  });

  it("warns when there is no ID line", () => {
    const r = parseOsRelease("this is not an os-release file");
    expect(r.value).toBeNull();
    expect(r.warnings[0]?.capture).toBe("os-release");
  });
});
