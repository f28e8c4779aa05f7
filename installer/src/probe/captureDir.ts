// readCaptureDir: loads a hand-collected or --capture-dir directory into Captures, ignoring unknown files.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { OmstackError } from "../errors.js";
import { ALTERNATIVE_CAPTURES, CAPTURES } from "./captures.js";
import type { ProbeWarning } from "./facts.js";

/** Largest capture file read; bigger files are skipped with a warning (a wrong file, not a probe output). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

/** Every file name `--from-capture` understands. */
export const KNOWN_CAPTURE_NAMES: ReadonlySet<string> = new Set([...CAPTURES.map((c) => c.name), ...ALTERNATIVE_CAPTURES]);

export interface ReadCaptureDirOptions {
  maxBytes?: number;
  onWarning?: (w: ProbeWarning) => void;
}

/** Reads the known capture names in `dir`; unknown, oversized or unreadable files become warnings. */
export async function readCaptureDir(dir: string, options: ReadCaptureDirOptions = {}): Promise<Map<string, string>> {
  const maxBytes = options.maxBytes ?? MAX_CAPTURE_BYTES;
  const warn = (capture: string, message: string): void => options.onWarning?.({ capture, message });
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OmstackError("E_CAPTURE_DIR", `capture directory ${dir} could not be read (${code ?? "error"})`, {
      remedy: "Pass a directory that holds capture files such as os-release, lsblk.json or nvidia-smi-q-x.xml (see docs/probe.md).",
      cause: err,
    });
  }
  const out = new Map<string, string>();
  for (const name of names) {
    if (!KNOWN_CAPTURE_NAMES.has(name)) {
      if (!name.startsWith(".") && !name.startsWith("_") && name !== "SOURCE.md") warn(name, "not a known capture name; ignored (see docs/probe.md)");
      continue;
    }
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (!st.isFile()) {
        warn(name, "not a regular file; ignored");
        continue;
      }
      if (st.size > maxBytes) {
        warn(name, `${st.size} bytes is larger than the ${maxBytes}-byte limit; ignored`);
        continue;
      }
      out.set(name, await readFile(path, "utf8"));
    } catch (err) {
      warn(name, `could not be read: ${(err as Error).message}`);
    }
  }
  return out;
}
