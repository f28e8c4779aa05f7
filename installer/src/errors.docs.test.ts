import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./errors.js";

describe("docs/errors.md", () => {
  it("documents every error code in the registry", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../docs/errors.md"), "utf8");
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`| ${code} |`) && !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
