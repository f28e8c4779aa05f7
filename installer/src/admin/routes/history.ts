// /api/v1/history: install and upgrade runs, and one run with each step's log.
import { Type } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { refuse } from "../http/errors.js";
import { ErrorBodySchema, IdParams } from "./schemas.js";

export function registerHistoryRoutes(app: AdminApp, ctx: AdminContext): void {
  app.get("/api/v1/history", { config: { access: "viewer" }, schema: { tags: ["history"], summary: "Install and upgrade runs, newest first", querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }), response: { 200: Type.Unknown(), 401: ErrorBodySchema } } }, async (request) => ({ items: ctx.runs.list(request.query.limit ?? 50) }));

  app.get("/api/v1/history/:id", { config: { access: "viewer" }, schema: { tags: ["history"], summary: "One run with its steps and their logs", params: IdParams, response: { 200: Type.Unknown(), 404: ErrorBodySchema, 401: ErrorBodySchema } } }, async (request) => {
    const run = ctx.runs.get(request.params.id);
    if (!run) throw refuse.notFound(`run ${request.params.id}`);
    return run;
  });
}
