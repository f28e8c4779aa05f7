// buildApp(deps): the whole admin service as a Fastify instance, without listening, so tests drive it with inject().
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { StateDb } from "./db/open.js";
import type { BundleVerifier, ClusterPort, SupportPort, UpgradePort } from "./ports.js";
import type { AdminContext, AdminLimits } from "./context.js";
import { AddressThrottle } from "./auth/throttle.js";
import { roleAllows } from "./auth/roles.js";
import { tokenMatches } from "./auth/tokens.js";
import { AuditLog } from "./store/audit.js";
import { BundleStore } from "./store/bundles.js";
import { StateDbCluster } from "./store/cluster.js";
import { RunStore } from "./store/runs.js";
import { SessionStore } from "./store/sessions.js";
import { SettingsStore } from "./store/settings.js";
import { UserStore } from "./store/users.js";
import { ManifestBundleVerifier } from "./services/bundle-verify.js";
import { Metrics } from "./services/metrics.js";
import { UpgradeManager } from "./services/upgrades.js";
import { refuse, toHttpError } from "./http/errors.js";
import { registerSessionRoutes, sessionLimits } from "./routes/session.js";
import { registerUserRoutes } from "./routes/users.js";
import { registerAuditRoutes } from "./routes/audit.js";
import { registerClusterRoutes } from "./routes/cluster.js";
import { registerHistoryRoutes } from "./routes/history.js";
import { registerBundleRoutes } from "./routes/bundles.js";
import { registerUpgradeRoutes } from "./routes/upgrades.js";
import { registerSupportRoutes } from "./routes/support.js";
import { registerSettingsRoutes } from "./routes/settings.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { registerWebRoutes } from "./routes/web.js";

/** Everything the service needs from outside; only db, stateDir and secureCookies are required. */
export interface AdminDeps {
  db: StateDb;
  stateDir: string;
  /** True when served over HTTPS: cookies get Secure and the __Host- prefix, HSTS is sent. */
  secureCookies: boolean;
  cluster?: ClusterPort;
  upgrade?: UpgradePort | null;
  support?: SupportPort | null;
  verifier?: BundleVerifier;
  now?: () => Date;
  limits?: Partial<AdminLimits>;
  logger?: FastifyBaseLogger | boolean;
  /** Key and certificate to serve HTTPS when listen() is called; absent means plain HTTP. */
  https?: { key: Buffer; cert: Buffer };
}

/** Defaults: 64 KiB JSON bodies, 8 GiB bundles, 20 failed logins per address per 15 minutes. */
export const DEFAULT_LIMITS: AdminLimits = { bodyBytes: 64 * 1024, uploadBytes: 8 * 1024 ** 3, addressMaxFailures: 20, addressWindowMs: 15 * 60_000 };

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function createFastify(deps: AdminDeps, limits: AdminLimits) {
  const logOpt = deps.logger === undefined ? false : deps.logger;
  return Fastify({
    ...(typeof logOpt === "boolean" ? { logger: logOpt } : { loggerInstance: logOpt }),
    bodyLimit: limits.bodyBytes,
    trustProxy: false,
    requestIdHeader: false,
    ajv: { customOptions: { coerceTypes: false } },
    ...(deps.https ? { https: { key: deps.https.key, cert: deps.https.cert, minVersion: "TLSv1.2" as const } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
}

/** The Fastify instance with the type provider the route modules use. */
export type AdminApp = ReturnType<typeof createFastify>;

/** Builds the service: stores, hooks (auth, CSRF, roles, security headers), routes, OpenAPI, console. */
export async function buildApp(deps: AdminDeps): Promise<AdminApp & { ctx: AdminContext }> {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const now = deps.now ?? (() => new Date());
  const app = createFastify(deps, limits);
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const audit = new AuditLog(deps.db);
  const runs = new RunStore(deps.db);
  runs.abandonRunning(now());
  const ctx: AdminContext = {
    db: deps.db,
    stateDir: deps.stateDir,
    users: new UserStore(deps.db),
    sessions: new SessionStore(deps.db),
    audit,
    settings: new SettingsStore(deps.db),
    runs,
    bundles: new BundleStore(deps.db),
    cluster: deps.cluster ?? new StateDbCluster(deps.db),
    upgrades: new UpgradeManager(deps.db, runs, audit, deps.upgrade ?? null, now),
    support: deps.support ?? null,
    verifier: deps.verifier ?? new ManifestBundleVerifier(),
    throttle: new AddressThrottle({ maxFailures: limits.addressMaxFailures, windowMs: limits.addressWindowMs }),
    metrics: new Metrics(),
    now,
    secureCookies: deps.secureCookies,
    cookieName: deps.secureCookies ? "__Host-omstack_session" : "omstack_session",
    limits,
  };

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "OMStack admin API", version: "1", description: "Health, inventory, history, bundles, upgrades, audit, users and support for an OMStack cluster. Log in with POST /api/v1/session; send the returned csrfToken as x-csrf-token on every POST, PUT, PATCH and DELETE." },
      components: { securitySchemes: { session: { type: "apiKey", in: "cookie", name: ctx.cookieName }, csrf: { type: "apiKey", in: "header", name: "x-csrf-token" } } },
      security: [{ session: [] }],
    },
  });

  app.decorateRequest("auth", null);
  app.addHook("onRequest", async (request, reply) => {
    setSecurityHeaders(reply, ctx.secureCookies, request.url);
    await authenticate(ctx, request);
  });
  app.addHook("onResponse", async (request, reply) => {
    ctx.metrics.observe(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler(async (err, request, reply) => {
    const { status, body, bug } = toHttpError(err, limits.bodyBytes);
    if (bug) request.log.error({ err }, "unhandled error in the admin service");
    if (status === 429) {
      const retry = (err as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds;
      if (retry) reply.header("retry-after", String(retry));
    }
    return reply.status(status).type("application/json").send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    return reply.status(404).send({ code: "E_ADMIN_NOT_FOUND", message: `${request.method} ${request.url.split("?")[0]} is not a route of this service`, remedy: "see the OpenAPI document at /api/docs for the routes" });
  });

  app.get("/api/docs", { config: { access: "public" }, schema: { hide: true } }, async () => app.swagger());
  registerSessionRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerClusterRoutes(app, ctx);
  registerHistoryRoutes(app, ctx);
  registerBundleRoutes(app, ctx);
  registerUpgradeRoutes(app, ctx);
  registerSupportRoutes(app, ctx);
  registerSettingsRoutes(app, ctx);
  registerMetricsRoutes(app, ctx);
  await registerWebRoutes(app);
  await app.ready();
  return Object.assign(app, { ctx });
}

/** Finds the session, then checks CSRF on state-changing methods, then the route's role. Unlisted API routes need admin. */
async function authenticate(ctx: AdminContext, request: FastifyRequest): Promise<void> {
  const url = request.url;
  const access = request.routeOptions.config?.access ?? (url.startsWith("/api/") || url === "/metrics" ? "admin" : "public");
  if (access === "public") return;
  const token = request.cookies[ctx.cookieName];
  const session = token ? ctx.sessions.find(token, ctx.now().getTime(), sessionLimits(ctx)) : undefined;
  const user = session ? ctx.users.byId(session.userId) : undefined;
  if (!session || !user) {
    if (access === "loopback-or-viewer" && LOOPBACK.test(request.ip)) return;
    throw refuse.unauthenticated();
  }
  request.auth = { user, tokenHash: session.tokenHash, csrfHash: session.csrfHash };
  if (STATE_CHANGING.has(request.method)) {
    const header = request.headers["x-csrf-token"];
    if (typeof header !== "string" || !tokenMatches(header, session.csrfHash)) {
      ctx.audit.append({ actor: user.name, action: "request.csrf_rejected", target: `${request.method} ${request.routeOptions.url ?? url}`, ip: request.ip, result: "denied", detail: null });
      throw refuse.csrf();
    }
  }
  const needed = access === "loopback-or-viewer" ? "viewer" : access;
  if (!roleAllows(user.role, needed)) {
    ctx.audit.append({ actor: user.name, action: "request.forbidden", target: `${request.method} ${request.routeOptions.url ?? url}`, ip: request.ip, result: "denied", detail: { role: user.role, needed } });
    throw refuse.forbidden(user.role, needed);
  }
}

function setSecurityHeaders(reply: FastifyReply, secure: boolean, url: string): void {
  reply.header("x-content-type-options", "nosniff");
  reply.header("x-frame-options", "DENY");
  reply.header("referrer-policy", "no-referrer");
  reply.header("content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
  reply.header("cross-origin-opener-policy", "same-origin");
  if (secure) reply.header("strict-transport-security", "max-age=31536000");
  if (url.startsWith("/api/")) reply.header("cache-control", "no-store");
}
