import { existsSync, readdirSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { KNOWN_CAPTURE_NAMES } from "../captureDir.js";
import { FIXTURES_DIR } from "./testFixtures.js";

const folders = (kind: string): string[] =>
  readdirSync(`${FIXTURES_DIR}${kind}`).filter((d) => statSync(`${FIXTURES_DIR}${kind}/${d}`).isDirectory());

describe("fixture provenance", () => {
  it.each([...folders("captures").map((d) => `captures/${d}`), ...folders("hosts").map((d) => `hosts/${d}`)])("%s has a SOURCE.md", (dir) => {
    expect(existsSync(`${FIXTURES_DIR}${dir}/SOURCE.md`)).toBe(true);
  });

  it.each(folders("hosts"))("hosts/%s holds only capture-named files (and no hostname.txt)", (dir) => {
    const files = readdirSync(`${FIXTURES_DIR}hosts/${dir}`).filter((f) => f !== "SOURCE.md");
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(KNOWN_CAPTURE_NAMES.has(f) && f !== "hostname.txt").toBe(true);
  });
});
