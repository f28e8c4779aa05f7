// Inputs hash: a stable digest of what a step's apply depends on, so the journal can tell "same inputs" from "changed".
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every level (so key order never changes the hash); undefined becomes null. */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString("base64"));
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    return "{" + Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => JSON.stringify(k) + ":" + canonicalJson(o[k])).join(",") + "}";
  }
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  return JSON.stringify(value);
}

/** sha256 hex of a plan (canonical JSON): the journal records which plan a run applied. */
export function planHash(plan: unknown): string {
  return createHash("sha256").update(canonicalJson(plan)).digest("hex");
}

/** sha256 hex of the step id and its inputs for one host. */
export function inputsHash(stepId: string, inputs: unknown): string {
  return createHash("sha256").update(canonicalJson({ step: stepId, inputs })).digest("hex");
}
