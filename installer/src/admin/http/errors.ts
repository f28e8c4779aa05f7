// Maps errors to HTTP: every refusal is a JSON body {code, message, remedy} with a fitting status.
import type { FastifyError } from "fastify";
import { OmstackError, isOmstackError, type ErrorCode } from "../../errors.js";

/** The body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  remedy: string;
}

/** HTTP status per admin error code; anything not listed is a 500. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  E_ADMIN_BAD_REQUEST: 400,
  E_ADMIN_MALFORMED_JSON: 400,
  E_ADMIN_WEAK_PASSWORD: 400,
  E_ADMIN_BAD_FILENAME: 400,
  E_ADMIN_UNAUTHENTICATED: 401,
  E_ADMIN_LOGIN_FAILED: 401,
  E_ADMIN_CSRF: 403,
  E_ADMIN_FORBIDDEN: 403,
  E_ADMIN_NOT_FOUND: 404,
  E_ADMIN_USER_UNKNOWN: 404,
  E_ADMIN_CONFLICT: 409,
  E_ADMIN_USER_EXISTS: 409,
  E_ADMIN_LAST_ADMIN: 409,
  E_ADMIN_UPGRADE_RUNNING: 409,
  E_ADMIN_BODY_TOO_LARGE: 413,
  E_ADMIN_UNSUPPORTED_MEDIA: 415,
  E_ADMIN_BUNDLE_INVALID: 422,
  E_ADMIN_LOCKED: 429,
  E_ADMIN_SUPPORT_FAILED: 500,
  E_ADMIN_UPGRADE_UNAVAILABLE: 503,
};

/** Status and body for any thrown value: our errors keep their code, Fastify's are translated, the rest are bugs. */
export function toHttpError(err: unknown, bodyLimit: number): { status: number; body: ErrorBody; bug: boolean } {
  if (isOmstackError(err)) {
    return { status: HTTP_STATUS[err.code] ?? 500, body: { code: err.code, message: err.message, remedy: err.remedy ?? "" }, bug: false };
  }
  const fe = err as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (fe.validation) {
    return {
      status: 400,
      body: { code: "E_ADMIN_BAD_REQUEST", message: `the request does not match the API schema: ${fe.message ?? "invalid"}`, remedy: "compare the request with the schema in the OpenAPI document at /api/docs" },
      bug: false,
    };
  }
  switch (fe.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: { code: "E_ADMIN_MALFORMED_JSON", message: `the request body is required to be valid JSON: ${fe.message}`, remedy: "send a JSON document with Content-Type: application/json" }, bug: false };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: { code: "E_ADMIN_BODY_TOO_LARGE", message: `request bodies of at most ${bodyLimit} bytes are accepted; this one is larger`, remedy: "send a smaller body; upload bundles through POST /api/v1/bundles/upload" }, bug: false };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { status: 415, body: { code: "E_ADMIN_UNSUPPORTED_MEDIA", message: `this content type is not accepted here: ${fe.message}`, remedy: "send JSON with Content-Type: application/json (bundle uploads: application/octet-stream)" }, bug: false };
  }
  // JSON syntax errors from the body parser arrive as plain SyntaxErrors carrying statusCode 400.
  if (err instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message ?? ""))) {
    return { status: 400, body: { code: "E_ADMIN_MALFORMED_JSON", message: `the request body is required to be valid JSON: ${fe.message}`, remedy: "send a JSON document with Content-Type: application/json" }, bug: false };
  }
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { code: "E_ADMIN_BAD_REQUEST", message: fe.message ?? "bad request", remedy: "check the request against the OpenAPI document at /api/docs" }, bug: false };
  }
  return { status: 500, body: { code: "E_INTERNAL", message: "internal error in the admin service (a bug)", remedy: "retry; if it persists, report it with the admin service log (the request id is in the x-request-id header)" }, bug: true };
}

/** Shorthand for the common refusals thrown from hooks and routes. */
export const refuse = {
  unauthenticated: () => new OmstackError("E_ADMIN_UNAUTHENTICATED", "this request needs a logged-in session; none was presented or it has expired", { remedy: "log in with POST /api/v1/session (or the console's login page) and send the session cookie" }),
  csrf: () => new OmstackError("E_ADMIN_CSRF", "a state-changing request needs the session's CSRF token in the x-csrf-token header; it was missing or wrong", { remedy: "send the csrfToken returned by POST /api/v1/session in the x-csrf-token header (log in again if it was lost)" }),
  forbidden: (role: string, needed: string) => new OmstackError("E_ADMIN_FORBIDDEN", `this needs the ${needed} role; your role is ${role}`, { remedy: `ask an admin to give your user the ${needed} role, or log in as a user who has it` }),
  notFound: (what: string) => new OmstackError("E_ADMIN_NOT_FOUND", `${what} does not exist`, { remedy: "check the id or name; list the resources with the matching GET endpoint" }),
};
