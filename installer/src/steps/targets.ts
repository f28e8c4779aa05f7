// Common target choices for steps, from the plan.
import type { Plan } from "../plan/types.js";

/** Every node of the plan, in plan order (host preparation runs everywhere). */
export function allNodes(plan: Plan): string[] {
  return plan.nodes.map((n) => n.host);
}
