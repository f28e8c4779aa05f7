// Writes raw probe captures to DIR/HOST/<capture>, plus _probe.json with how each command ended.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaptureOutcome } from "../../probe/script.js";

/** Saves one host's captures (0600 files, 0700 folders): support staff read these. */
export async function writeCaptures(dir: string, host: string, outcomes: CaptureOutcome[]): Promise<void> {
  const hostDir = join(dir, host);
  await mkdir(hostDir, { recursive: true, mode: 0o700 });
  await Promise.all(outcomes.filter((o) => o.status === "ok").map((o) => writeFile(join(hostDir, o.name), o.stdout, { mode: 0o600 })));
  const status = Object.fromEntries(outcomes.map((o) => [o.name, { status: o.status, exitCode: o.exitCode, stderr: o.stderr.slice(0, 2000) }]));
  await writeFile(join(hostDir, "_probe.json"), JSON.stringify({ host, captures: status }, null, 2) + "\n", { mode: 0o600 });
}
