// TypeBox schemas shared by several routes (and so by the OpenAPI document).
import { Type } from "typebox";

/** The error body every refusal carries. */
export const ErrorBodySchema = Type.Object({ code: Type.String(), message: Type.String(), remedy: Type.String() }, { description: "Every error: a stable code, what was required and found, and how to fix it." });

/** Common error responses for documentation. */
export const errorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
} as const;

export const RoleSchema = Type.Union([Type.Literal("admin"), Type.Literal("operator"), Type.Literal("viewer")]);

export const UserSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  role: RoleSchema,
  lockedUntil: Type.Union([Type.String(), Type.Null()]),
  failedLogins: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
