// Public surface of the planner.
export { buildPlan, type PlanInput } from "./buildPlan.js";
export { diffPlans, formatDiff, type PlanChange } from "./diff.js";
export { layoutDisks, diskClass, inUse, VG_CACHE, VG_LOCAL, VG_SHUFFLE } from "./disks.js";
export { factLabels, labelValue } from "./labels.js";
export type { Plan, PlanDisk, PlanInventoryHost, PlanNode, PlanService } from "./types.js";
export { preflightAndPlan, type PipelineInput } from "./pipeline.js";
export { DEFAULT_BUNDLE_VERSIONS } from "./defaults.js";
