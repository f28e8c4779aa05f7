// The install's side of the journal handoff: reads STATE_DIR/install.db (read-only) and writes the export to push.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OmstackError } from "../../errors.js";
import type { HandoffRun, JournalExportFile, JournalHandoffSource } from "../../steps/admin/ports.js";
import { exportJournal } from "./export.js";
import { runSourceKey, type JournalExport } from "./format.js";
import { mapRun } from "./import.js";

/** Each run as the admin database will list it once imported (key, admin status, step rows). */
export function handoffRuns(exp: JournalExport): HandoffRun[] {
  return exp.runs.map((r) => ({ key: runSourceKey(r), status: mapRun(r).summary.status, steps: r.steps.length }));
}

/** A JournalHandoffSource over the installer's state directory (the file `install.db` in it). */
export function localJournalSource(stateDir: string): JournalHandoffSource {
  const file = join(stateDir, "install.db");
  const read = (): JournalExport => {
    if (!existsSync(file)) {
      throw new OmstackError("E_INSTALL_STATE", `the install journal ${file} is required for the handoff to the admin service; it does not exist`, { remedy: "pass the install's state directory (--state-dir) to the handoff" });
    }
    return exportJournal(file);
  };
  return {
    async runs() {
      return handoffRuns(read());
    },
    async writeExport(): Promise<JournalExportFile> {
      const exp = read();
      const text = JSON.stringify(exp);
      const dir = await mkdtemp(join(tmpdir(), "omstack-handoff-"));
      const path = join(dir, "install-journal.json");
      await writeFile(path, text, { mode: 0o600 });
      return { path, sha256: createHash("sha256").update(text).digest("hex"), runs: handoffRuns(exp), dispose: () => rm(dir, { recursive: true, force: true }) };
    },
  };
}
