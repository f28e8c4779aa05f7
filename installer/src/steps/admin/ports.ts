// What admin.journal-handoff needs from this machine: the installer's journal, read and exported. The implementation
// (admin/journal/handoff-source.ts, over install.db) is wired in by the install command; tests pass their own.

/** One installer run as the admin database will hold it: its key, the admin status and the number of step rows. */
export interface HandoffRun {
  key: string;
  status: string;
  steps: number;
}

/** An export written to a local file, ready to push. */
export interface JournalExportFile {
  path: string;
  sha256: string;
  runs: HandoffRun[];
  /** Removes the local file. */
  dispose(): Promise<void>;
}

/** The local install journal. */
export interface JournalHandoffSource {
  /** The runs the journal holds now, as they will look once imported (read-only; check and verify use it). */
  runs(): Promise<HandoffRun[]>;
  /** Writes the whole journal (with each step's log tail) to a 0600 file. */
  writeExport(): Promise<JournalExportFile>;
}
