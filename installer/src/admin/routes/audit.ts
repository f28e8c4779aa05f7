// /api/v1/audit: the audit log, paged and filtered, and its export as JSON lines (the export is itself audited).
import { Type, type Static } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import type { AuditFilter } from "../store/audit.js";
import { ErrorBodySchema } from "./schemas.js";

const Filter = {
  actor: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64, pattern: "^[a-z_.]+\\*?$" })),
  result: Type.Optional(Type.Union([Type.Literal("success"), Type.Literal("failure"), Type.Literal("denied")])),
  since: Type.Optional(Type.String({ format: "date-time" })),
  until: Type.Optional(Type.String({ format: "date-time" })),
};
const ListQuery = Type.Object(
  {
    ...Filter,
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: "1-based page of pageSize entries, counted from the newest entry (or from `before`)" })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "cursor: only entries older than this id; pass the `next` of the previous page (cheaper than deep pages)" })),
  },
  { additionalProperties: false },
);
const ExportQuery = Type.Object(Filter, { additionalProperties: false });
const Entry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  result: Type.String(),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

/** The list's reply; `next` is the `before` cursor of the following page, null on the last one. */
export const AuditPage = Type.Object({ items: Type.Array(Entry), total: Type.Integer(), page: Type.Integer(), pageSize: Type.Integer(), next: Type.Union([Type.Integer(), Type.Null()]) });

function toFilter(q: AuditFilter): AuditFilter {
  const f: AuditFilter = {};
  if (q.actor) f.actor = q.actor;
  if (q.action) f.action = q.action;
  if (q.result) f.result = q.result;
  if (q.since) f.since = new Date(q.since).toISOString();
  if (q.until) f.until = new Date(q.until).toISOString();
  return f;
}

export function registerAuditRoutes(app: AdminApp, ctx: AdminContext): void {
  app.get(
    "/api/v1/audit",
    { config: { access: "operator" }, schema: { tags: ["audit"], summary: "Audit entries, newest first", querystring: ListQuery, response: { 200: AuditPage, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema } } },
    async (request, reply) => {
      const page = request.query.page ?? 1;
      const pageSize = request.query.pageSize ?? 50;
      const at = request.query.before === undefined ? { page } : { page, before: request.query.before };
      const { itemsJson, total, next } = ctx.audit.listJson(toFilter(request.query), at, pageSize);
      // The items are JSON already, rendered by SQLite in the AuditPage shape (routes/audit.test.ts checks the body against
      // the schema). Fastify sends a string with a JSON content type as is; the type provider only knows object bodies.
      const body = `{"items":${itemsJson},"total":${total},"page":${page},"pageSize":${pageSize},"next":${next ?? "null"}}`;
      return reply.type("application/json; charset=utf-8").send(body as unknown as Static<typeof AuditPage>);
    },
  );

  app.get(
    "/api/v1/audit/export",
    { config: { access: "operator" }, schema: { tags: ["audit"], summary: "Export matching entries as JSON lines (oldest first)", querystring: ExportQuery, produces: ["application/x-ndjson"] } },
    async (request, reply) => {
      const filter = toFilter(request.query);
      ctx.audit.append({ actor: request.auth!.user.name, action: "audit.exported", target: null, ip: request.ip, result: "success", detail: { filter } });
      const stamp = ctx.now().toISOString().replace(/[:.]/g, "-");
      reply.header("content-type", "application/x-ndjson; charset=utf-8");
      reply.header("content-disposition", `attachment; filename="omstack-audit-${stamp}.jsonl"`);
      const rows = ctx.audit.iterate(filter);
      async function* lines() {
        let batch = "";
        for (const e of rows) {
          batch += JSON.stringify(e) + "\n";
          if (batch.length > 64 * 1024) {
            yield batch;
            batch = "";
          }
        }
        if (batch) yield batch;
      }
      const { Readable } = await import("node:stream");
      return reply.send(Readable.from(lines()));
    },
  );
}
