// Public surface of preflight: the pure evaluator, the check table, services, matrices and the expression language.
export { evaluatePreflight, hasFailures, compileChecks, CHECK_TYPES, type Outcome, type OutcomeStatus, type PreflightContext } from "./preflight.js";
export { CHECKS, type CheckSpec } from "./checks.js";
export { summarizeCluster, defaultRoles, MATRIX_FUNCTIONS, type BundleVersions, type ClusterSummary } from "./context.js";
export { loadServiceSpec, evaluateServices, type ServiceSpec, type ServiceResult, type RequirementResult, type HostRequirement } from "./services.js";
export { loadServiceDir } from "./services.fs.js";
export * as matrices from "./matrices/index.js";
export * as expressions from "./expressions/index.js";
