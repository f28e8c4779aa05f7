// evaluatePreflight: every check on every host, all outcomes at once; pure (facts in, outcomes out).
import { OmstackError } from "../errors.js";
import type { HostFacts } from "../probe/facts.js";
import { CHECKS, type CheckSpec } from "./checks.js";
import { CONTEXT_TYPES, MATRIX_FUNCTIONS, defaultRoles, hostVars, summarizeCluster, type BundleVersions } from "./context.js";
import { compile, ExpressionError, HOST_FACTS_FIELDS, type CompiledExpression, type EvalEnv, type TypeEnv } from "./expressions/index.js";
import { compileTemplate, type Template } from "./template.js";
import { suggest } from "./expressions/typecheck.js";

/** pass: requirement met; warn/fail: not met (by severity); bypassed: not met but named in --ignore. */
export type OutcomeStatus = "pass" | "warn" | "fail" | "bypassed";

/** One check on one host: what was required, what was found, and how to fix it. */
export interface Outcome {
  checkId: string;
  title: string;
  area: CheckSpec["area"];
  host: string;
  status: OutcomeStatus;
  /** The status before --ignore (so a bypass records what it hid). */
  severity: "fail" | "warn" | "pass";
  required: string;
  found: string;
  remedy: string;
}

/** Inputs besides the facts: the bundle's versions, the roles per host (default: worker, + gpu), and --ignore ids. */
export interface PreflightContext {
  bundle: BundleVersions;
  roles?: Readonly<Record<string, readonly string[]>>;
  ignore: readonly string[];
  /** Whether RDMA shuffle/cache services are enabled (RDMA port checks apply only then); default true. */
  rdmaServices?: boolean;
  /**
   * Hosts where this installer's journal shows Kubernetes already started (a resumed or repeated install): their
   * Kubernetes ports and kubelet are the cluster being installed, not a competitor (`resuming` in expressions).
   */
  resumingHosts?: readonly string[];
}

interface CompiledCheck {
  spec: CheckSpec;
  appliesTo: CompiledExpression | null;
  unknownWhen: CompiledExpression | null;
  require: CompiledExpression;
  required: Template;
  found: Template;
  remedy: Template;
}

/** Types every check expression is compiled against. */
export const CHECK_TYPES: TypeEnv = { rootFields: HOST_FACTS_FIELDS, vars: CONTEXT_TYPES, functions: MATRIX_FUNCTIONS };

let compiled: CompiledCheck[] | null = null;

/** Compiles the check table once; an error here is a bug in checks.ts and names the check. */
export function compileChecks(specs: readonly CheckSpec[] = CHECKS): CompiledCheck[] {
  const ids = new Set<string>();
  return specs.map((spec) => {
    if (ids.has(spec.id)) throw new OmstackError("E_INTERNAL", `duplicate preflight check id ${spec.id}`);
    ids.add(spec.id);
    const file = `check ${spec.id}`;
    const bool = (src: string) => compile(src, { types: CHECK_TYPES, expect: "bool", file });
    return {
      spec,
      appliesTo: spec.appliesTo ? bool(spec.appliesTo) : null,
      unknownWhen: spec.unknownWhen ? bool(spec.unknownWhen) : null,
      require: bool(spec.require),
      required: compileTemplate(spec.required, CHECK_TYPES, file),
      found: compileTemplate(spec.found, CHECK_TYPES, file),
      remedy: compileTemplate(spec.remedy, CHECK_TYPES, file),
    };
  });
}

/** Runs every check on every host and returns all outcomes (unreachable hosts get one failing `host.reachable`). */
export function evaluatePreflight(facts: readonly HostFacts[], ctx: PreflightContext): Outcome[] {
  compiled ??= compileChecks();
  const checks = compiled;
  const known = new Set(["host.reachable", ...checks.map((c) => c.spec.id)]);
  for (const id of ctx.ignore) {
    if (!known.has(id)) {
      throw new OmstackError("E_PREFLIGHT_IGNORE", `--ignore ${id}: no preflight check has this id${suggest(id, [...known])}`, {
        remedy: "run `omstack preflight` to list check ids, or see docs/preflight.md",
      });
    }
  }
  const ignore = new Set(ctx.ignore);
  const cluster = summarizeCluster(facts);
  const rdmaServices = ctx.rdmaServices ?? true;
  const out: Outcome[] = [];
  const push = (o: Omit<Outcome, "status">) => {
    const status: OutcomeStatus = o.severity !== "pass" && ignore.has(o.checkId) ? "bypassed" : o.severity;
    out.push({ ...o, status });
  };

  const bundleEnv: EvalEnv = { root: null, vars: hostVars(["worker"], ctx.bundle, cluster, rdmaServices), functions: MATRIX_FUNCTIONS };
  for (const c of checks) if (c.spec.scope === "bundle") runCheck(c, "bundle", bundleEnv, push);

  for (const f of facts) {
    if (!f.reachable) {
      push({
        checkId: "host.reachable",
        title: "Host reachable over SSH",
        area: "host",
        host: f.host,
        severity: "fail",
        required: "an SSH connection and a completed probe",
        found: f.error ?? "unreachable",
        remedy: "fix the connection (omstack probe --host " + f.host + " shows the SSH error), or remove the host from the inventory",
      });
      continue;
    }
    const roles = [...(ctx.roles?.[f.host] ?? defaultRoles(f))];
    const env: EvalEnv = { root: f, vars: hostVars(roles, ctx.bundle, cluster, rdmaServices, ctx.resumingHosts?.includes(f.host) ?? false), functions: MATRIX_FUNCTIONS };
    for (const c of checks) if (c.spec.scope === "host") runCheck(c, f.host, env, push);
  }
  return out;
}

function runCheck(c: CompiledCheck, host: string, env: EvalEnv, push: (o: Omit<Outcome, "status">) => void): void {
  const base = { checkId: c.spec.id, title: c.spec.title, area: c.spec.area, host };
  try {
    if (c.appliesTo && !c.appliesTo.test(env)) return;
    const render = (t: Template) => t.render(env);
    if (c.unknownWhen?.test(env)) {
      push({ ...base, severity: c.spec.unknownStatus ?? "warn", required: render(c.required), found: "unknown (the probe could not read this)", remedy: `re-run omstack probe on ${host} and check its warnings; then: ${render(c.remedy)}` });
      return;
    }
    const ok = c.require.test(env);
    push({ ...base, severity: ok ? "pass" : c.spec.severity, required: render(c.required), found: render(c.found), remedy: ok ? "" : render(c.remedy) });
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    // A check that cannot be evaluated must never look like a pass.
    push({ ...base, severity: "fail", required: c.spec.require, found: `the check could not be evaluated: ${e.message}`, remedy: "report this as a bug in the preflight check table (docs/preflight.md)" });
  }
}

/** Outcomes that stop an install: any "fail". Bypassed checks do not. */
export function hasFailures(outcomes: readonly Outcome[]): boolean {
  return outcomes.some((o) => o.status === "fail");
}
