// Runs one upgrade at a time in the background, journaling every event so a browser can leave and come back.
import { OmstackError } from "../../errors.js";
import type { UpgradePort, UpgradeEvent } from "../ports.js";
import type { AuditLog } from "../store/audit.js";
import type { BundleRecord } from "../store/bundles.js";
import type { RunStore } from "../store/runs.js";
import type { StateDb } from "../db/open.js";

/** Starts upgrades and records their progress in the state database. */
export class UpgradeManager {
  private active: Promise<void> | null = null;
  constructor(
    private readonly db: StateDb,
    private readonly runs: RunStore,
    private readonly audit: AuditLog,
    private readonly engine: UpgradePort | null,
    private readonly now: () => Date,
  ) {}

  private requireEngine(): UpgradePort {
    if (!this.engine) {
      throw new OmstackError("E_ADMIN_UPGRADE_UNAVAILABLE", "upgrades need the install engine, and this admin service was started without one", {
        remedy: "run the admin service installed by `omstack install` on the first control-plane node, or run `omstack upgrade` from the command line",
      });
    }
    return this.engine;
  }

  async preflight(bundle: BundleRecord) {
    return this.requireEngine().preflight(bundle);
  }

  /** Starts the upgrade and returns its run id at once; refuses while another run is in progress. */
  start(bundle: BundleRecord, actor: string, ip: string): number {
    const engine = this.requireEngine();
    const running = this.runs.running();
    if (running) {
      throw new OmstackError("E_ADMIN_UPGRADE_RUNNING", `run ${running.id} (${running.kind} to ${running.toVersion ?? "?"}) is still in progress; only one may run at a time`, {
        remedy: `watch it on the Upgrades page (or GET /api/v1/upgrades/${running.id}/events) and start again when it has finished`,
      });
    }
    const installed = this.installedVersion();
    const runId = this.runs.create("upgrade", bundle.id, installed, bundle.version, actor, this.now());
    this.audit.append({ actor, action: "upgrade.started", target: `${bundle.name} ${bundle.version}`, ip, result: "success", detail: { runId, bundleId: bundle.id, from: installed } });
    this.runs.event(runId, "run-start", null, `upgrade from ${installed ?? "unknown"} to ${bundle.version} started by ${actor}`, 0, this.now());
    const report = (e: UpgradeEvent) => this.record(runId, e);
    this.active = engine.run(bundle, report).then(
      () => {
        this.db.transaction(() => {
          const at = this.now().toISOString();
          const up = this.db.prepare("INSERT INTO components (name, version, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at");
          for (const [name, version] of Object.entries(bundle.components)) up.run(name, version, at);
          up.run("platform", bundle.version, at);
          this.runs.finish(runId, "succeeded", null, this.now());
          this.runs.event(runId, "run-end", null, `upgrade to ${bundle.version} finished`, 100, this.now());
        })();
        this.audit.append({ actor, action: "upgrade.finished", target: `${bundle.name} ${bundle.version}`, ip, result: "success", detail: { runId } });
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        const rolledBack = typeof err === "object" && err !== null && (err as { rolledBack?: boolean }).rolledBack === true;
        this.runs.finish(runId, rolledBack ? "rolled_back" : "failed", message, this.now());
        this.runs.event(runId, "run-end", null, rolledBack ? `upgrade rolled back: ${message}` : `upgrade failed: ${message}`, null, this.now());
        this.audit.append({ actor, action: rolledBack ? "upgrade.rolled_back" : "upgrade.failed", target: `${bundle.name} ${bundle.version}`, ip, result: "failure", detail: { runId, error: message } });
      },
    );
    return runId;
  }

  /** Resolves when the current background run (if any) has been recorded; for tests and shutdown. */
  async settled(): Promise<void> {
    await this.active;
  }

  installedVersion(): string | null {
    const row = this.db.prepare("SELECT version FROM components WHERE name = 'platform'").get() as { version: string } | undefined;
    return row?.version ?? null;
  }

  private record(runId: number, e: UpgradeEvent): void {
    const now = this.now();
    switch (e.type) {
      case "step-start":
        this.runs.stepStart(runId, e.stepId, e.title, now);
        this.runs.event(runId, e.type, e.stepId, e.title, null, now);
        break;
      case "step-log":
        this.runs.stepLog(runId, e.stepId, e.line);
        this.runs.event(runId, e.type, e.stepId, e.line, null, now);
        break;
      case "step-done":
        this.runs.stepEnd(runId, e.stepId, "done", now);
        this.runs.event(runId, e.type, e.stepId, "done", null, now);
        break;
      case "step-failed":
        this.runs.stepEnd(runId, e.stepId, "failed", now);
        this.runs.event(runId, e.type, e.stepId, e.message, null, now);
        break;
      case "progress":
        this.runs.event(runId, e.type, null, e.message, Math.max(0, Math.min(100, Math.round(e.percent))), now);
        break;
    }
  }
}
