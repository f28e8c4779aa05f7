// What the three nvidia-smi parsers (XML, -q text, query CSV) share: GPUs plus driver and CUDA versions.
import type { GpuFacts } from "../facts.js";

/** The GPU part of HostFacts as any nvidia-smi output form reports it. */
export interface NvidiaSmiFacts {
  gpus: GpuFacts[];
  driverVersion: string | null;
  cudaVersion: string | null;
}

/** "Enabled"/"Disabled" → HostFacts' migMode; "N/A" (consumer cards, old drivers) → null. */
export function migModeOf(v: unknown): GpuFacts["migMode"] {
  if (typeof v !== "string") return null;
  if (/^\s*enabled\s*$/i.test(v)) return "enabled";
  if (/^\s*disabled\s*$/i.test(v)) return "disabled";
  return null;
}

/** A plain version string or null for "N/A" and friends. */
export function versionOf(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const t = v.trim();
  return /^\d+(\.\d+)*$/.test(t) ? t : null;
}

export const EMPTY_SMI: NvidiaSmiFacts = { gpus: [], driverVersion: null, cudaVersion: null };
