// admin.journal-handoff: the installer's journal copied to the admin service's node and imported into its database,
// so the console's install history shows this install. Importing again replaces runs by key: no duplicates.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { ADMIN_STATE_DIR, APP_CURRENT, INSTALL_CLI_LOG, RELEASE_MARKER, cliCommand, firstControlPlane } from "./layout.js";
import type { HandoffRun, JournalHandoffSource } from "./ports.js";

/** Written by `omstack admin import-journal` after each import (admin/journal/import.ts IMPORT_RECEIPT_FILE). */
export const IMPORT_RECEIPT = "journal-imports.json";
/** Where the export waits on the node while it is imported (removed after). */
export const HANDOFF_INBOX = "/var/lib/omstack/handoff";

/** The runs of `local` that the receipt does not list with the same status and step count (pure). */
export function missingRuns(local: readonly HandoffRun[], receiptText: string | null): HandoffRun[] {
  let held: HandoffRun[] = [];
  try {
    const r = receiptText === null ? null : (JSON.parse(receiptText) as { runs?: unknown });
    if (r && Array.isArray(r.runs)) held = r.runs.filter((x): x is HandoffRun => typeof x === "object" && x !== null && typeof (x as HandoffRun).key === "string");
  } catch {
    held = [];
  }
  const byKey = new Map(held.map((r) => [r.key, r]));
  return local.filter((r) => {
    const h = byKey.get(r.key);
    return !h || h.status !== r.status || h.steps !== r.steps;
  });
}

/** Builds the step over the local journal. */
export function adminJournalHandoff(opts: { source: JournalHandoffSource; stateDir?: string; hosts?: (plan: Plan) => string[] }): Step<Plan> {
  const id = "admin.journal-handoff";
  const stateDir = opts.stateDir ?? ADMIN_STATE_DIR;
  const receipt = `${stateDir}/${IMPORT_RECEIPT}`;
  let exported: HandoffRun[] | null = null;

  async function missing(ctx: ReadCtx, runs?: HandoffRun[]): Promise<HandoffRun[]> {
    return missingRuns(runs ?? (await opts.source.runs()), await ctx.readText(receipt));
  }

  return {
    id,
    title: "Hand the install journal over to the admin service",
    targets: opts.hosts ?? firstControlPlane,
    // What is imported is read when the step runs; a new run always has something new to hand over.
    inputs: () => ({ stateDir }),
    async check(ctx): Promise<CheckResult> {
      const m = await missing(ctx);
      return m.length === 0 ? "done" : { pending: `${m.length} install run(s) not yet in the admin database (${m.map((r) => r.key.split(":").slice(1, 3).join(" run ")).join(", ")})` };
    },
    async apply(ctx) {
      if (!(await ctx.exists(`${APP_CURRENT}/${RELEASE_MARKER}`))) {
        throw new OmstackError("E_ADMIN_SERVICE_PREREQ", `${ctx.host}: the omstack app must be installed at ${APP_CURRENT} to import the journal; it is not`, { host: ctx.host, remedy: "admin.app installs it and runs first; run the install again (it resumes there)" });
      }
      const file = await opts.source.writeExport();
      try {
        const remote = `${HANDOFF_INBOX}/install-journal-${file.sha256.slice(0, 16)}.json`;
        await ctx.pushFile(file.path, remote, { sha256: file.sha256, mode: 0o600 });
        await ctx.run(`trap 'rm -f ${shq(remote).replace(/'/g, `'\\''`)}' EXIT\n${cliCommand(["--log-file", INSTALL_CLI_LOG, "admin", "import-journal", "--state-dir", stateDir, "--from", remote])}`, { timeoutMs: 5 * 60_000 });
        exported = file.runs;
      } finally {
        await file.dispose();
      }
    },
    async verify(ctx) {
      const m = await missing(ctx, exported ?? undefined);
      if (m.length > 0) {
        throw verifyFailed(ctx.host, id, `the admin database must hold every install run of the local journal; ${receipt} lacks ${m.map((r) => r.key).join(", ")}`, `run the install again; or import by hand on the node: omstack admin import-journal --state-dir ${stateDir} --from install.db`);
      }
    },
    describe: () => [`export the local install journal (runs, step outcomes, log tails), push it to ${HANDOFF_INBOX}/ and run \`omstack admin import-journal --state-dir ${stateDir}\` there (runs replaced by key: no duplicates)`],
  };
}
