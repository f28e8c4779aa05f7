// Roles and what each may do: admin ⊃ operator ⊃ viewer.

/** The three roles; ordered from least to most privileged. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** True when `role` is at least `required` (admin may do anything an operator may, and so on). */
export function roleAllows(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** Narrowing check for values read from the database or the command line. */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
