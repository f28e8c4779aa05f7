// Test helper: reads real captures from tests/fixtures by folder and capture name.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of tests/fixtures. */
export const FIXTURES_DIR = fileURLToPath(new URL("../../../../tests/fixtures/", import.meta.url));

/** The text of tests/fixtures/captures/<variant>/<capture>. */
export function capture(variant: string, name: string): string {
  return readFileSync(`${FIXTURES_DIR}captures/${variant}/${name}`, "utf8");
}
