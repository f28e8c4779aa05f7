import { describe, expect, it } from "vitest";
import { parseCaptures } from "./index.js";
import { parseNvcc } from "./nvcc.js";
import { parseNvidiaVersion } from "./nvidiaVersion.js";
import { capture } from "./testFixtures.js";

describe("parseNvidiaVersion on real /proc/driver/nvidia/version files", () => {
  it.each([
    ["nvidia-version-384-ubuntu", "384.98"],
    ["nvidia-version-580-truenas", "580.173.02"],
    ["nvidia-version-open-565", "565.57.01"],
    ["nvidia-version-open-jetson-aarch64", "35.3.1"],
  ])("%s → %s", (variant, version) => {
    const r = parseNvidiaVersion(capture(variant, "nvidia-version.txt"));
    expect(r).toEqual({ value: version, warnings: [] });
  });

  it("the GCC line alone is not a module version", () => {
    const gccLine = capture("nvidia-version-580-truenas", "nvidia-version.txt").split("\n")[1] ?? "";
    const r = parseNvidiaVersion(gccLine);
    expect(r.value).toBeNull();
    expect(r.warnings).toHaveLength(1);
  });

  it("parseCaptures falls back to the module version for the driver when nvidia-smi is missing", () => {
    const f = parseCaptures("h", new Map([["nvidia-version.txt", capture("nvidia-version-580-truenas", "nvidia-version.txt")]]));
    expect(f.gpuDriver).toEqual({ version: "580.173.02", cudaVersion: null });
  });
});

describe("parseNvcc on real nvcc --version outputs", () => {
  it.each([
    ["nvcc-12.5", "12.5.82"],
    ["nvcc-11.1", "11.1.105"],
    ["nvcc-7.5", "7.5.17"],
  ])("%s → %s", (variant, version) => {
    expect(parseNvcc(capture(variant, "nvcc-version.txt"))).toEqual({ value: version, warnings: [] });
  });

  it("parseCaptures reports the toolkit", () => {
    const f = parseCaptures("h", new Map([["nvcc-version.txt", capture("nvcc-12.5", "nvcc-version.txt")]]));
    expect(f.cudaToolkit).toEqual({ version: "12.5.82" });
  });

  it("the banner without the release line gives null and a warning", () => {
    const banner = capture("nvcc-7.5", "nvcc-version.txt").split("\n").slice(0, 3).join("\n");
    const r = parseNvcc(banner);
    expect(r.value).toBeNull();
    expect(r.warnings[0]?.capture).toBe("nvcc-version.txt");
  });
});
