// Reads services/<name>/service.yaml from disk; the only file access in preflight, kept apart from the pure loader.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { OmstackError } from "../errors.js";
import { loadServiceSpec, type ServiceSpec } from "./services.js";

/** Loads every services/<name>/service.yaml under `dir`, sorted by name. */
export function loadServiceDir(dir: string): ServiceSpec[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory());
  } catch (e) {
    throw new OmstackError("E_CONFIG_READ", `cannot read the services directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  return names
    .sort()
    .filter((n) => {
      try {
        return statSync(join(dir, n, "service.yaml")).isFile();
      } catch {
        return false;
      }
    })
    .map((n) => {
      const file = join(dir, n, "service.yaml");
      return loadServiceSpec(readFileSync(file, "utf8"), file, n);
    });
}
