// The web console: a fixed set of local files (no CDN) read once at start and served from memory.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AdminApp } from "../app.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The console's folder: beside this module in the source tree; the compiled build falls back to the source copy. */
export function webRoot(): string {
  const here = fileURLToPath(new URL("../web/", import.meta.url));
  if (existsSync(join(here, "index.html"))) return here;
  const fromDist = fileURLToPath(new URL("../../../src/admin/web/", import.meta.url));
  if (existsSync(join(fromDist, "index.html"))) return fromDist;
  throw new Error(`the admin console files are missing (looked in ${here} and ${fromDist})`);
}

export async function registerWebRoutes(app: AdminApp): Promise<void> {
  const root = webRoot();
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(root)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: readFileSync(join(root, name)) });
  }
  const index = files.get("index.html")!;
  app.get("/", { config: { access: "public" }, schema: { hide: true } }, async (_req, reply) => reply.type(index.type).header("cache-control", "no-cache").send(index.body));
  app.get("/assets/:file", { config: { access: "public" }, schema: { hide: true } }, async (request, reply) => {
    const f = files.get((request.params as { file: string }).file);
    if (!f || (request.params as { file: string }).file === "index.html") {
      return reply.status(404).send({ code: "E_ADMIN_NOT_FOUND", message: "no such console asset", remedy: "reload the console from /" });
    }
    return reply.type(f.type).header("cache-control", "no-cache").send(f.body);
  });
}
