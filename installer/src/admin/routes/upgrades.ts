// /api/v1/upgrades: preflight, start, and progress as Server-Sent Events replayed from the journal (resumable).
import { Type } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { refuse } from "../http/errors.js";
import { ErrorBodySchema, IdParams } from "./schemas.js";

const BundleRef = Type.Object({ bundleId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema, 503: ErrorBodySchema };

/** How often the event stream looks for new journal rows. */
const POLL_MS = 200;

export function registerUpgradeRoutes(app: AdminApp, ctx: AdminContext): void {
  const bundle = (id: number) => {
    const b = ctx.bundles.get(id);
    if (!b) throw refuse.notFound(`bundle ${id}`);
    return b;
  };

  app.post("/api/v1/upgrades/preflight", { config: { access: "operator" }, schema: { tags: ["upgrades"], summary: "Run the upgrade preflight for a bundle", body: BundleRef, response: { 200: Type.Unknown(), ...errors } } }, async (request) => {
    const b = bundle(request.body.bundleId);
    const outcomes = await ctx.upgrades.preflight(b);
    return { bundleId: b.id, ok: outcomes.every((o) => o.status !== "fail"), outcomes };
  });

  app.post("/api/v1/upgrades", { config: { access: "operator" }, schema: { tags: ["upgrades"], summary: "Start an upgrade to a bundle (one at a time)", body: BundleRef, response: { 202: Type.Object({ runId: Type.Integer() }), ...errors } } }, async (request, reply) => {
    const b = bundle(request.body.bundleId);
    const actor = request.auth!.user.name;
    try {
      const runId = ctx.upgrades.start(b, actor, request.ip);
      return reply.status(202).send({ runId });
    } catch (e) {
      ctx.audit.append({ actor, action: "upgrade.started", target: `${b.name} ${b.version}`, ip: request.ip, result: "failure", detail: { error: (e as Error).message } });
      throw e;
    }
  });

  app.get("/api/v1/upgrades/current", { config: { access: "viewer" }, schema: { tags: ["upgrades"], summary: "The run in progress, if any" } }, async () => ({ run: ctx.runs.running() ?? null }));

  app.get(
    "/api/v1/upgrades/:id/events",
    { config: { access: "viewer" }, schema: { tags: ["upgrades"], summary: "Progress as Server-Sent Events; reconnect with Last-Event-ID to resume", params: IdParams, querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }), produces: ["text/event-stream"] } },
    async (request, reply) => {
      const runId = request.params.id;
      if (!ctx.runs.get(runId)) throw refuse.notFound(`run ${runId}`);
      const header = Number(request.headers["last-event-id"]);
      let after = Number.isInteger(header) && header >= 0 ? header : request.query.after ?? 0;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-content-type-options": "nosniff",
      });
      res.write("retry: 2000\n\n");
      let closed = false;
      request.raw.on("close", () => (closed = true));
      while (!closed) {
        const events = ctx.runs.eventsAfter(runId, after);
        for (const e of events) {
          res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
          after = e.id;
        }
        if (events.length === 0) {
          const run = ctx.runs.get(runId);
          if (!run || run.status !== "running") {
            res.write(`event: end\ndata: ${JSON.stringify({ status: run?.status ?? "unknown" })}\n\n`);
            break;
          }
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      }
      res.end();
    },
  );
}
