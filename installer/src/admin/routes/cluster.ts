// Read-only cluster views: health summary, nodes, services, versions, inventory and HostFacts.
import { statfs, stat } from "node:fs/promises";
import { join } from "node:path";
import { Type } from "typebox";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { summarizeHealth, type StateDirUsage } from "../services/health.js";
import { STATE_DB_FILE } from "../db/open.js";
import { refuse } from "../http/errors.js";
import { ErrorBodySchema } from "./schemas.js";

/** Size of the state database (with its WAL) and free space of the filesystem holding it. */
export async function stateDirUsage(dir: string): Promise<StateDirUsage> {
  let dbBytes = 0;
  for (const f of [STATE_DB_FILE, STATE_DB_FILE + "-wal"]) {
    try {
      dbBytes += (await stat(join(dir, f))).size;
    } catch {
      /* absent WAL is normal */
    }
  }
  try {
    const s = await statfs(dir);
    return { path: dir, dbBytes, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return { path: dir, dbBytes, freeBytes: null, totalBytes: null };
  }
}

/** How long one health reading is shared. */
const HEALTH_CACHE_MS = 1000;

const errors = { 401: ErrorBodySchema, 403: ErrorBodySchema };
const Any = Type.Unknown({ description: "see the HealthReport type in installer/src/admin/services/health.ts" });

export function registerClusterRoutes(app: AdminApp, ctx: AdminContext): void {
  // Many consoles polling at once share one reading per second instead of each re-reading the cluster.
  let cached: { at: number; report: Promise<ReturnType<typeof summarizeHealth>> } | null = null;
  const health = async () => {
    const now = ctx.now();
    if (!cached || now.getTime() - cached.at >= HEALTH_CACHE_MS || now.getTime() < cached.at) {
      const report = (async () => summarizeHealth(await ctx.cluster.snapshot(), await stateDirUsage(ctx.stateDir), now))();
      cached = { at: now.getTime(), report };
      report.catch(() => (cached = null));
    }
    return cached.report;
  };

  app.get("/api/v1/health", { config: { access: "viewer" }, schema: { tags: ["cluster"], summary: "Health at a glance: nodes (GPU/RDMA, readiness), system pods, services and their checks, certificate expiry, etcd, state directory", response: { 200: Any, ...errors } } }, health);

  app.get("/api/v1/nodes", { config: { access: "viewer" }, schema: { tags: ["cluster"], summary: "Nodes with GPU model × count, RDMA ports and disks", response: { 200: Any, ...errors } } }, async () => ({ items: (await health()).nodes }));

  app.get("/api/v1/services", { config: { access: "viewer" }, schema: { tags: ["cluster"], summary: "Platform services: status, version, health checks, link to their UI through the portal", response: { 200: Any, ...errors } } }, async () => {
    const report = await health();
    const portal = ctx.settings.get().portalUrl.replace(/\/+$/, "");
    return { items: report.services.map((s) => ({ ...s, uiUrl: s.uiPath ? (portal ? portal + s.uiPath : s.uiPath) : null })) };
  });

  app.get("/api/v1/versions", { config: { access: "viewer" }, schema: { tags: ["cluster"], summary: "Installed platform and component versions", response: { 200: Type.Object({ platform: Type.Union([Type.String(), Type.Null()]), components: Type.Record(Type.String(), Type.String()) }), ...errors } } }, async () => {
    const { components } = await ctx.cluster.snapshot();
    return { platform: components.platform ?? null, components };
  });

  app.get("/api/v1/inventory", { config: { access: "viewer" }, schema: { tags: ["cluster"], summary: "Hosts known to the installer with their probe status", response: { 200: Any, ...errors } } }, async () => {
    const s = await ctx.cluster.snapshot();
    return { items: s.facts.map((f) => ({ host: f.host, reachable: f.reachable, error: f.error, os: f.os?.prettyName ?? null, kernel: f.kernel, gpus: f.gpus.length, rdmaPorts: f.rdma.length, probedAt: f.probedAt })) };
  });

  app.get("/api/v1/inventory/:host", { config: { access: "viewer" }, schema: { tags: ["cluster"], summary: "The HostFacts of one host", params: Type.Object({ host: Type.String({ maxLength: 253 }) }), response: { 200: Any, 404: ErrorBodySchema, ...errors } } }, async (request) => {
    const f = (await ctx.cluster.snapshot()).facts.find((x) => x.host === request.params.host);
    if (!f) throw refuse.notFound(`host ${request.params.host}`);
    return f;
  });
}
