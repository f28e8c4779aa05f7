// Static types for the cheap checker: enough to catch typos in field names and obvious type mistakes early.

/** A static type; `any` means unknown, so the checker lets the evaluator decide. */
export type Ty =
  | { k: "any" }
  | { k: "number" }
  | { k: "string" }
  | { k: "bool" }
  | { k: "null" }
  | { k: "version" }
  | { k: "list"; of: Ty }
  | { k: "object"; name: string; fields: Readonly<Record<string, Ty>> };

/** The primitive types, shared so comparisons by identity of kind stay cheap. */
export const ANY: Ty = { k: "any" };
export const NUMBER: Ty = { k: "number" };
export const STRING: Ty = { k: "string" };
export const BOOL: Ty = { k: "bool" };
export const NULL: Ty = { k: "null" };
export const VERSION: Ty = { k: "version" };
/** A list of `of`. */
export const listOf = (of: Ty): Ty => ({ k: "list", of });
/** A record type with known fields; reading any other field is a type error. */
export const obj = (name: string, fields: Record<string, Ty>): Ty => ({ k: "object", name, fields });

/** Short type names used by host-supplied functions ("string", "number", "list<string>", ...). */
export type TypeSpec = "any" | "number" | "string" | "bool" | "version" | "list" | "list<string>" | "list<number>";

/** The Ty for a TypeSpec. */
export function fromSpec(s: TypeSpec): Ty {
  switch (s) {
    case "any":
      return ANY;
    case "number":
      return NUMBER;
    case "string":
      return STRING;
    case "bool":
      return BOOL;
    case "version":
      return VERSION;
    case "list":
      return listOf(ANY);
    case "list<string>":
      return listOf(STRING);
    case "list<number>":
      return listOf(NUMBER);
  }
}

/** Readable name of a type for messages. */
export function tyName(t: Ty): string {
  switch (t.k) {
    case "list":
      return t.of.k === "any" ? "list" : `list of ${tyName(t.of)}`;
    case "object":
      return t.name;
    default:
      return t.k;
  }
}
