// /api/v1/users: admins list, create, change (role, password, unlock) and remove users; every change audited.
import { Type } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { checkPasswordPolicy, hashPassword } from "../auth/password.js";
import { USER_NAME_PATTERN } from "../store/users.js";
import { ErrorBodySchema, RoleSchema, UserSchema } from "./schemas.js";

const NameParams = Type.Object({ name: Type.String({ pattern: USER_NAME_PATTERN }) });
const CreateBody = Type.Object({ name: Type.String({ pattern: USER_NAME_PATTERN }), role: RoleSchema, password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });
const PatchBody = Type.Object({ role: Type.Optional(RoleSchema), password: Type.Optional(Type.String({ maxLength: 1024 })), unlock: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema };

export function registerUserRoutes(app: AdminApp, ctx: AdminContext): void {
  app.get("/api/v1/users", { config: { access: "admin" }, schema: { tags: ["users"], summary: "List users", response: { 200: Type.Object({ items: Type.Array(UserSchema) }), ...errors } } }, async () => ({ items: ctx.users.list() }));

  app.post("/api/v1/users", { config: { access: "admin" }, schema: { tags: ["users"], summary: "Create a user", body: CreateBody, response: { 201: UserSchema, ...errors } } }, async (request, reply) => {
    const { name, role, password } = request.body;
    const actor = request.auth!.user.name;
    try {
      checkPasswordPolicy(password);
      const user = ctx.users.create(name, role, await hashPassword(password), ctx.now());
      ctx.audit.append({ actor, action: "user.created", target: name, ip: request.ip, result: "success", detail: { role } });
      return reply.status(201).send(user);
    } catch (e) {
      ctx.audit.append({ actor, action: "user.created", target: name, ip: request.ip, result: "failure", detail: { error: (e as Error).message } });
      throw e;
    }
  });

  app.patch("/api/v1/users/:name", { config: { access: "admin" }, schema: { tags: ["users"], summary: "Change a user's role or password, or unlock it", params: NameParams, body: PatchBody, response: { 200: UserSchema, ...errors } } }, async (request) => {
    const { name } = request.params;
    const { role, password, unlock } = request.body;
    const actor = request.auth!.user.name;
    const now = ctx.now();
    const changed: string[] = [];
    try {
      if (password !== undefined) checkPasswordPolicy(password);
      let user = ctx.users.require(name);
      if (role !== undefined && role !== user.role) {
        user = ctx.users.setRole(name, role, now);
        changed.push("role");
        ctx.audit.append({ actor, action: "user.role_changed", target: name, ip: request.ip, result: "success", detail: { role } });
      }
      if (password !== undefined) {
        user = ctx.users.setPassword(name, await hashPassword(password), now);
        changed.push("password");
        ctx.audit.append({ actor, action: "user.password_changed", target: name, ip: request.ip, result: "success", detail: null });
      }
      if (unlock) {
        user = ctx.users.unlock(name, now);
        changed.push("unlock");
        ctx.audit.append({ actor, action: "user.unlocked", target: name, ip: request.ip, result: "success", detail: null });
      }
      return user;
    } catch (e) {
      ctx.audit.append({ actor, action: "user.changed", target: name, ip: request.ip, result: "failure", detail: { error: (e as Error).message, applied: changed } });
      throw e;
    }
  });

  app.delete("/api/v1/users/:name", { config: { access: "admin" }, schema: { tags: ["users"], summary: "Remove a user", params: NameParams, response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors } } }, async (request) => {
    const { name } = request.params;
    const actor = request.auth!.user.name;
    try {
      ctx.users.remove(name);
      ctx.audit.append({ actor, action: "user.removed", target: name, ip: request.ip, result: "success", detail: null });
      return { ok: true };
    } catch (e) {
      ctx.audit.append({ actor, action: "user.removed", target: name, ip: request.ip, result: "failure", detail: { error: (e as Error).message } });
      throw e;
    }
  });
}
