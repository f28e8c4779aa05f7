// preflightAndPlan: the one path from facts to outcomes and a Plan, shared by `omstack preflight`, `omstack plan` and the benchmark.
import { evaluatePreflight, type Outcome } from "../preflight/preflight.js";
import { buildPlan, type PlanInput } from "./buildPlan.js";
import type { Plan } from "./types.js";

/** The planner's input minus preflight, plus the check ids the operator chose to bypass. */
export interface PipelineInput extends Omit<PlanInput, "preflight"> {
  ignore: readonly string[];
  bundle: PlanInput["bundle"] & { extractedBytes?: number | null };
  /** Hosts this installer already started Kubernetes on (from its journal): see PreflightContext.resumingHosts. */
  resumingHosts?: readonly string[];
}

/**
 * Checks hosts against the roles the planner would give them (a control plane is held to control-plane minimums and
 * ports), with RDMA port checks on only when the RDMA-using service (bigdata) is enabled; then plans with the outcomes
 * so bypassed checks are recorded. Pure: same input, same output.
 */
export function preflightAndPlan(input: PipelineInput): { outcomes: Outcome[]; plan: Plan } {
  const { ignore, resumingHosts, ...planInput } = input;
  const draft = buildPlan(planInput);
  const roles = Object.fromEntries(draft.nodes.map((n) => [n.host, n.roles]));
  const rdmaServices = draft.services.find((s) => s.name === "bigdata")?.enabled ?? false;
  const outcomes = evaluatePreflight(planInput.facts, { bundle: input.bundle, roles, ignore, rdmaServices, ...(resumingHosts ? { resumingHosts } : {}) });
  return { outcomes, plan: buildPlan({ ...planInput, preflight: outcomes }) };
}
