// POST/GET/DELETE /api/v1/session: log in (cookie + CSRF token), who am I, log out. Throttled and audited.
import { Type } from "typebox";
import { OmstackError } from "../../errors.js";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import type { SessionLimits } from "../store/sessions.js";
import { DUMMY_HASH_PROMISE, verifyPassword } from "../auth/password.js";
import { ErrorBodySchema, RoleSchema } from "./schemas.js";

/** Session lifetimes from the current settings. */
export function sessionLimits(ctx: AdminContext): SessionLimits {
  const s = ctx.settings.get();
  return { idleMs: s.sessionIdleMinutes * 60_000, maxMs: s.sessionMaxHours * 3_600_000 };
}

const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
const LoginReply = Type.Object({ csrfToken: Type.String(), user: Type.Object({ name: Type.String(), role: RoleSchema }) });

const locked = (retryAfterSeconds: number, why: string) =>
  new OmstackError("E_ADMIN_LOCKED", `${why}; try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s)`, {
    remedy: "wait for the lock to expire, or have an admin unlock the account (Users page, or `omstack admin reset-password` on the node)",
    details: { retryAfterSeconds },
  });

export function registerSessionRoutes(app: AdminApp, ctx: AdminContext): void {
  app.post(
    "/api/v1/session",
    { config: { access: "public" }, schema: { tags: ["session"], summary: "Log in", body: LoginBody, response: { 200: LoginReply, 400: ErrorBodySchema, 401: ErrorBodySchema, 429: ErrorBodySchema }, security: [] } },
    async (request, reply) => {
      const { username, password } = request.body;
      const ip = request.ip;
      const nowMs = ctx.now().getTime();
      const fail = (action: string, why: string) => ctx.audit.append({ actor: username, action, target: username, ip, result: "failure", detail: { reason: why } });
      const waitMs = ctx.throttle.retryAfterMs(ip, nowMs);
      if (waitMs > 0) {
        ctx.metrics.logins.locked++;
        fail("login.failed", "too many failed logins from this address");
        throw locked(Math.ceil(waitMs / 1000), `too many failed logins from ${ip}`);
      }
      const found = ctx.users.findForLogin(username);
      if (found && found.lockedUntilMs !== null && found.lockedUntilMs > nowMs) {
        ctx.metrics.logins.locked++;
        fail("login.failed", "account locked");
        throw locked(Math.ceil((found.lockedUntilMs - nowMs) / 1000), `the account ${username} is locked after repeated failed logins`);
      }
      const ok = await verifyPassword(password, found?.hash ?? (await DUMMY_HASH_PROMISE));
      if (!found || !ok) {
        ctx.metrics.logins.failure++;
        ctx.throttle.fail(ip, nowMs);
        const s = ctx.settings.get();
        const until = found ? ctx.users.recordFailure(found.user.id, s.loginMaxFailures, s.lockoutMinutes * 60_000, nowMs) : null;
        fail("login.failed", found ? "wrong password" : "unknown user");
        if (until !== null) ctx.audit.append({ actor: null, action: "user.locked", target: username, ip, result: "success", detail: { until: new Date(until).toISOString(), afterFailures: s.loginMaxFailures } });
        throw new OmstackError("E_ADMIN_LOGIN_FAILED", "the user name or password is wrong", { remedy: `check both and try again; after ${ctx.settings.get().loginMaxFailures} failures in a row the account is locked for ${ctx.settings.get().lockoutMinutes} minutes` });
      }
      ctx.users.recordSuccess(found.user.id);
      ctx.metrics.logins.success++;
      const limits = sessionLimits(ctx);
      const { token, csrfToken } = ctx.sessions.create(found.user.id, ip, nowMs, limits);
      ctx.sessions.purge(nowMs);
      reply.setCookie(ctx.cookieName, token, { path: "/", httpOnly: true, sameSite: "strict", secure: ctx.secureCookies, maxAge: Math.floor(limits.maxMs / 1000) });
      ctx.audit.append({ actor: found.user.name, action: "login", target: found.user.name, ip, result: "success", detail: null });
      return { csrfToken, user: { name: found.user.name, role: found.user.role } };
    },
  );

  app.get(
    "/api/v1/session",
    { config: { access: "viewer" }, schema: { tags: ["session"], summary: "The logged-in user", response: { 200: Type.Object({ user: Type.Object({ name: Type.String(), role: RoleSchema }) }), 401: ErrorBodySchema } } },
    async (request) => ({ user: { name: request.auth!.user.name, role: request.auth!.user.role } }),
  );

  app.delete(
    "/api/v1/session",
    { config: { access: "viewer" }, schema: { tags: ["session"], summary: "Log out", response: { 200: Type.Object({ ok: Type.Boolean() }), 401: ErrorBodySchema, 403: ErrorBodySchema } } },
    async (request, reply) => {
      ctx.sessions.end(request.auth!.tokenHash);
      reply.clearCookie(ctx.cookieName, { path: "/", httpOnly: true, sameSite: "strict", secure: ctx.secureCookies });
      ctx.audit.append({ actor: request.auth!.user.name, action: "logout", target: request.auth!.user.name, ip: request.ip, result: "success", detail: null });
      return { ok: true };
    },
  );
}
