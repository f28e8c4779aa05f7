// GET /metrics: Prometheus text; open to local scrapers on loopback, otherwise needs a session.
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";

export function registerMetricsRoutes(app: AdminApp, ctx: AdminContext): void {
  const count = (sql: string) => (ctx.db.prepare(sql).get() as { n: number }).n;
  app.get("/metrics", { config: { access: "loopback-or-viewer" }, schema: { tags: ["metrics"], summary: "Prometheus metrics", produces: ["text/plain"] } }, async (_request, reply) => {
    const text = ctx.metrics.render({
      omstack_admin_users: { help: "Users of the admin service.", value: count("SELECT count(*) AS n FROM users") },
      omstack_admin_sessions: { help: "Live sessions.", value: count(`SELECT count(*) AS n FROM sessions WHERE expires_at > ${ctx.now().getTime()}`) },
      omstack_admin_audit_entries: { help: "Entries in the audit log.", value: count("SELECT coalesce(max(id), 0) AS n FROM audit") },
      omstack_admin_upgrade_running: { help: "1 while an upgrade runs.", value: ctx.runs.running() ? 1 : 0 },
      omstack_admin_bundles: { help: "Verified bundles.", value: count("SELECT count(*) AS n FROM bundles") },
    });
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(text);
  });
}
