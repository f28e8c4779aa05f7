// /api/v1/settings: everyone may read; admins change them, each changed key audited with its old and new value.
import { Type } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { ErrorBodySchema } from "./schemas.js";

const SettingsSchema = Type.Object({
  loginMaxFailures: Type.Integer({ minimum: 1, maximum: 100 }),
  lockoutMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  sessionMaxHours: Type.Integer({ minimum: 1, maximum: 168 }),
  portalUrl: Type.String({ maxLength: 2048, pattern: "^(https?://[^\\s]+)?$" }),
});

export function registerSettingsRoutes(app: AdminApp, ctx: AdminContext): void {
  app.get("/api/v1/settings", { config: { access: "viewer" }, schema: { tags: ["settings"], summary: "Current settings", response: { 200: SettingsSchema, 401: ErrorBodySchema } } }, async () => ctx.settings.get());

  app.patch("/api/v1/settings", { config: { access: "admin" }, schema: { tags: ["settings"], summary: "Change settings", body: Type.Partial(SettingsSchema, { additionalProperties: false, minProperties: 1 }), response: { 200: SettingsSchema, 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema } } }, async (request) => {
    const actor = request.auth!.user.name;
    for (const c of ctx.settings.update(request.body, actor, ctx.now())) {
      ctx.audit.append({ actor, action: "setting.changed", target: c.key, ip: request.ip, result: "success", detail: { from: c.from, to: c.to } });
    }
    return ctx.settings.get();
  });
}
