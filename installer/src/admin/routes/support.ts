// GET /api/v1/support-bundle: a .tar.gz for support; every download (and every failure) is audited.
import { Type } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { buildSupportBundle } from "../services/support.js";
import { ErrorBodySchema } from "./schemas.js";

export function registerSupportRoutes(app: AdminApp, ctx: AdminContext): void {
  app.get("/api/v1/support-bundle", { config: { access: "operator" }, schema: { tags: ["support"], summary: "Download a support bundle (journal, HostFacts, cluster state, host diagnostics)", produces: ["application/gzip"], response: { 200: Type.Unknown(), 401: ErrorBodySchema, 403: ErrorBodySchema, 500: ErrorBodySchema } } }, async (request, reply) => {
    const actor = request.auth!.user.name;
    try {
      const bundle = await buildSupportBundle(ctx.cluster, ctx.runs, ctx.support, ctx.now());
      ctx.audit.append({ actor, action: "support.downloaded", target: bundle.fileName, ip: request.ip, result: "success", detail: { bytes: bundle.data.length, files: bundle.files.length } });
      reply.header("content-type", "application/gzip");
      reply.header("content-disposition", `attachment; filename="${bundle.fileName}"`);
      return reply.send(bundle.data);
    } catch (e) {
      ctx.audit.append({ actor, action: "support.downloaded", target: null, ip: request.ip, result: "failure", detail: { error: (e as Error).message } });
      throw e;
    }
  });
}
