// What every route needs, built once by buildApp(): stores over the state DB, the ports, the clock, the limits.
import type { StateDb } from "./db/open.js";
import type { BundleVerifier, ClusterPort, SupportPort } from "./ports.js";
import type { AddressThrottle } from "./auth/throttle.js";
import type { AuditLog } from "./store/audit.js";
import type { BundleStore } from "./store/bundles.js";
import type { RunStore } from "./store/runs.js";
import type { SessionStore } from "./store/sessions.js";
import type { SettingsStore } from "./store/settings.js";
import type { UserStore, User } from "./store/users.js";
import type { UpgradeManager } from "./services/upgrades.js";
import type { Metrics } from "./services/metrics.js";
import type { Role } from "./auth/roles.js";

/** Size limits, in bytes. */
export interface AdminLimits {
  /** JSON request bodies. */
  bodyBytes: number;
  /** Bundle uploads (streamed to disk). */
  uploadBytes: number;
  /** Failed logins from one address per window before it is refused. */
  addressMaxFailures: number;
  addressWindowMs: number;
}

/** Shared services handed to each route module. */
export interface AdminContext {
  db: StateDb;
  stateDir: string;
  users: UserStore;
  sessions: SessionStore;
  audit: AuditLog;
  settings: SettingsStore;
  runs: RunStore;
  bundles: BundleStore;
  cluster: ClusterPort;
  upgrades: UpgradeManager;
  support: SupportPort | null;
  verifier: BundleVerifier;
  throttle: AddressThrottle;
  metrics: Metrics;
  now: () => Date;
  secureCookies: boolean;
  cookieName: string;
  limits: AdminLimits;
}

/** Who is calling, set by the auth hook on every non-public route. */
export interface AuthContext {
  user: User;
  tokenHash: string;
  csrfHash: string;
}

/** The role a route needs; "public" needs no session, "loopback-or-viewer" lets local scrapers in without one. */
export type RouteAccess = Role | "public" | "loopback-or-viewer";

declare module "fastify" {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
