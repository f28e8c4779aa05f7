// The compatibility matrices as data plus the lookups preflight exposes to expressions.
export * from "./cuda.js";
export * from "./kubernetes.js";
export * from "./ofed.js";
export * from "./roles.js";
export * from "./sources.js";
