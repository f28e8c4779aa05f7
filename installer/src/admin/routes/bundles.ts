// /api/v1/bundles: upload (streamed to disk, size-limited, verified before listing), register a path, list, diff.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { isAbsolute, join, normalize } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Type } from "typebox";
import { OmstackError } from "../../errors.js";
import type { AdminApp } from "../app.js";
import type { AdminContext } from "../context.js";
import { diffComponents } from "../store/bundles.js";
import { refuse } from "../http/errors.js";
import { ErrorBodySchema, IdParams } from "./schemas.js";

/** Plain file names only: no directories, no leading dot, no '..'. */
export const BUNDLE_FILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

const badName = (name: string) =>
  new OmstackError("E_ADMIN_BAD_FILENAME", `a plain file name (letters, digits, . _ + -, no '/' or '..') is required; got ${JSON.stringify(name)}`, {
    remedy: "rename the bundle file, e.g. omstack-1.2.0.tar.gz, and upload it again",
  });

const Bundle = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  version: Type.String(),
  path: Type.String(),
  sha256: Type.String(),
  sizeBytes: Type.Integer(),
  components: Type.Record(Type.String(), Type.String()),
  source: Type.String(),
  addedAt: Type.String(),
  addedBy: Type.Union([Type.String(), Type.Null()]),
});
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 413: ErrorBodySchema, 422: ErrorBodySchema };

export function registerBundleRoutes(app: AdminApp, ctx: AdminContext): void {
  // Uploads arrive as a raw stream; the route streams it to disk itself with its own size limit.
  app.addContentTypeParser("application/octet-stream", (_req, payload, done) => done(null, payload));
  const dir = join(ctx.stateDir, "bundles");

  app.get("/api/v1/bundles", { config: { access: "viewer" }, schema: { tags: ["bundles"], summary: "Verified bundles", response: { 200: Type.Object({ items: Type.Array(Bundle) }), 401: ErrorBodySchema } } }, async () => ({ items: ctx.bundles.list() }));

  app.post(
    "/api/v1/bundles/upload",
    { config: { access: "operator" }, bodyLimit: Number.MAX_SAFE_INTEGER, schema: { tags: ["bundles"], summary: "Upload a bundle (Content-Type: application/octet-stream; ?name=file name)", querystring: Type.Object({ name: Type.String({ maxLength: 256 }) }, { additionalProperties: false }), response: { 201: Bundle, ...errors } } },
    async (request, reply) => {
      const actor = request.auth!.user.name;
      const name = request.query.name;
      const auditFail = (why: string) => ctx.audit.append({ actor, action: "bundle.uploaded", target: name, ip: request.ip, result: "failure", detail: { reason: why } });
      if (!BUNDLE_FILE_PATTERN.test(name) || name.includes("..")) {
        auditFail("bad file name");
        reply.header("connection", "close");
        throw badName(name);
      }
      const stream = request.body as Readable | undefined;
      if (!stream || typeof (stream as Readable).pipe !== "function") {
        throw new OmstackError("E_ADMIN_UNSUPPORTED_MEDIA", "the bundle is required as the raw request body with Content-Type: application/octet-stream", { remedy: "send the file as the body, e.g. curl --data-binary @bundle.tar.gz -H 'content-type: application/octet-stream'" });
      }
      const max = ctx.limits.uploadBytes;
      const tooBig = () =>
        new OmstackError("E_ADMIN_BODY_TOO_LARGE", `bundles of at most ${max} bytes can be uploaded; this one is larger`, {
          remedy: "copy the bundle to the node and register its path (POST /api/v1/bundles/register) instead",
        });
      const declared = Number(request.headers["content-length"] ?? "0");
      if (declared > max) {
        auditFail("too large");
        reply.header("connection", "close");
        throw tooBig();
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `.incoming-${randomBytes(8).toString("hex")}`);
      let seen = 0;
      const limiter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          if (seen > max) cb(tooBig());
          else cb(null, chunk);
        },
      });
      try {
        await pipeline(stream, limiter, createWriteStream(tmp, { mode: 0o600 }));
        if (request.raw.aborted || (declared > 0 && seen < declared)) throw new OmstackError("E_ADMIN_BUNDLE_INVALID", `the upload ended after ${seen} of ${declared} bytes`, { remedy: "upload the bundle again; nothing was applied" });
        const verified = await ctx.verifier.verify(tmp);
        const final = join(dir, name);
        await rename(tmp, final);
        const rec = ctx.bundles.add(verified, final, "upload", actor, ctx.now());
        ctx.audit.append({ actor, action: "bundle.uploaded", target: name, ip: request.ip, result: "success", detail: { id: rec.id, version: rec.version, sha256: rec.sha256, sizeBytes: rec.sizeBytes } });
        return reply.status(201).send(rec);
      } catch (e) {
        await rm(tmp, { force: true });
        auditFail(e instanceof OmstackError ? e.code : (e as Error).message);
        if (e instanceof OmstackError && e.code === "E_ADMIN_BODY_TOO_LARGE") reply.header("connection", "close");
        throw e;
      }
    },
  );

  app.post(
    "/api/v1/bundles/register",
    { config: { access: "operator" }, schema: { tags: ["bundles"], summary: "Register a bundle file already on this node", body: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), response: { 201: Bundle, ...errors, 404: ErrorBodySchema } } },
    async (request, reply) => {
      const actor = request.auth!.user.name;
      const path = request.body.path;
      const auditFail = (why: string) => ctx.audit.append({ actor, action: "bundle.registered", target: path, ip: request.ip, result: "failure", detail: { reason: why } });
      if (!isAbsolute(path) || normalize(path) !== path || path.split("/").includes("..") || path.includes("\0")) {
        auditFail("not a normalized absolute path");
        throw new OmstackError("E_ADMIN_BAD_FILENAME", `an absolute, normalized path (no '..' parts) is required; got ${JSON.stringify(path)}`, { remedy: "give the full path of the bundle file on this node, e.g. /srv/omstack/omstack-1.2.0.tar.gz" });
      }
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) {
        auditFail("no such file");
        throw refuse.notFound(`the file ${path} on this node`);
      }
      try {
        const verified = await ctx.verifier.verify(path);
        const rec = ctx.bundles.add(verified, path, "path", actor, ctx.now());
        ctx.audit.append({ actor, action: "bundle.registered", target: path, ip: request.ip, result: "success", detail: { id: rec.id, version: rec.version, sha256: rec.sha256 } });
        return reply.status(201).send(rec);
      } catch (e) {
        auditFail(e instanceof OmstackError ? e.code : (e as Error).message);
        throw e;
      }
    },
  );

  app.get("/api/v1/bundles/:id/diff", { config: { access: "viewer" }, schema: { tags: ["bundles"], summary: "What the bundle would change against what is installed", params: IdParams, response: { 200: Type.Unknown(), 404: ErrorBodySchema, 401: ErrorBodySchema } } }, async (request) => {
    const b = ctx.bundles.get(request.params.id);
    if (!b) throw refuse.notFound(`bundle ${request.params.id}`);
    const { components } = await ctx.cluster.snapshot();
    const installed = Object.fromEntries(Object.entries(components).filter(([k]) => k !== "platform"));
    return { bundle: { id: b.id, name: b.name, version: b.version }, installedVersion: components.platform ?? null, changes: diffComponents(installed, b.components) };
  });
}
