// NVIDIA driver ↔ CUDA: the lowest Linux x86_64 driver each CUDA Toolkit release needs, as NVIDIA publishes it.
import { compareVersions, parseVersion } from "../expressions/index.js";
import { CUDA_MINOR_COMPAT, CUDA_RELEASE_NOTES, type Source } from "./sources.js";

/** One row of NVIDIA's table: toolkit release → minimum Linux x86_64 driver. */
export interface CudaDriverRow {
  cuda: string;
  release: string;
  minLinuxDriver: string;
  source: Source;
}

const row = (cuda: string, release: string, minLinuxDriver: string): CudaDriverRow => ({ cuda, release, minLinuxDriver, source: CUDA_RELEASE_NOTES });

/** Table 3 of the CUDA release notes (newest first), rows CUDA 11.4 Update 3 to CUDA 13.2 GA. */
export const CUDA_DRIVER_TABLE: readonly CudaDriverRow[] = [
  row("13.2", "CUDA 13.2 GA", "595.45.04"),
  row("13.1.1", "CUDA 13.1 Update 1", "590.48.01"),
  row("13.1", "CUDA 13.1 GA", "590.44.01"),
  row("13.0.2", "CUDA 13.0 Update 2", "580.95.05"),
  row("13.0.1", "CUDA 13.0 Update 1", "580.82.07"),
  row("13.0", "CUDA 13.0 GA", "580.65.06"),
  row("12.9.1", "CUDA 12.9 Update 1", "575.57.08"),
  row("12.9", "CUDA 12.9 GA", "575.51.03"),
  row("12.8.1", "CUDA 12.8 Update 1", "570.124.06"),
  row("12.8", "CUDA 12.8 GA", "570.26"),
  row("12.6.3", "CUDA 12.6 Update 3", "560.35.05"),
  row("12.6.2", "CUDA 12.6 Update 2", "560.35.03"),
  row("12.6.1", "CUDA 12.6 Update 1", "560.35.03"),
  row("12.6", "CUDA 12.6 GA", "560.28.03"),
  row("12.5.1", "CUDA 12.5 Update 1", "555.42.06"),
  row("12.5", "CUDA 12.5 GA", "555.42.02"),
  row("12.4.1", "CUDA 12.4 Update 1", "550.54.15"),
  row("12.4", "CUDA 12.4 GA", "550.54.14"),
  row("12.3.1", "CUDA 12.3 Update 1", "545.23.08"),
  row("12.3", "CUDA 12.3 GA", "545.23.06"),
  row("12.2.2", "CUDA 12.2 Update 2", "535.104.05"),
  row("12.2.1", "CUDA 12.2 Update 1", "535.86.09"),
  row("12.2", "CUDA 12.2 GA", "535.54.03"),
  row("12.1.1", "CUDA 12.1 Update 1", "530.30.02"),
  row("12.1", "CUDA 12.1 GA", "530.30.02"),
  row("12.0.1", "CUDA 12.0 Update 1", "525.85.12"),
  row("12.0", "CUDA 12.0 GA", "525.60.13"),
  row("11.8", "CUDA 11.8 GA", "520.61.05"),
  row("11.7.1", "CUDA 11.7 Update 1", "515.48.07"),
  row("11.7", "CUDA 11.7 GA", "515.43.04"),
  row("11.6.2", "CUDA 11.6 Update 2", "510.47.03"),
  row("11.6.1", "CUDA 11.6 Update 1", "510.47.03"),
  row("11.6", "CUDA 11.6 GA", "510.39.01"),
  row("11.5.2", "CUDA 11.5 Update 2", "495.29.05"),
  row("11.5.1", "CUDA 11.5 Update 1", "495.29.05"),
  row("11.5", "CUDA 11.5 GA", "495.29.05"),
  row("11.4.4", "CUDA 11.4 Update 4", "470.82.01"),
  row("11.4.3", "CUDA 11.4 Update 3", "470.82.01"),
];

/** Table 2: the lowest driver branch that runs any toolkit of a major release through minor-version compatibility. */
export const CUDA_MINOR_COMPAT_TABLE: readonly { major: number; minDriver: string; source: Source }[] = [
  { major: 13, minDriver: "580", source: CUDA_MINOR_COMPAT },
  { major: 12, minDriver: "525", source: CUDA_MINOR_COMPAT },
  { major: 11, minDriver: "450", source: CUDA_MINOR_COMPAT },
];

/**
 * The driver a bundle built for `cuda` needs: the table row for that exact release, else the newest row of the same
 * minor release at or below it ("12.8.0" → 12.8 GA). Null when NVIDIA's table has no such release.
 */
export function minDriverForCuda(cuda: string): CudaDriverRow | null {
  const want = parseVersion(cuda);
  if (!want) return null;
  const [maj, min] = want.parts;
  let best: CudaDriverRow | null = null;
  for (const r of CUDA_DRIVER_TABLE) {
    const v = parseVersion(r.cuda)!;
    if (v.parts[0] !== maj || (v.parts[1] ?? 0) !== (min ?? 0)) continue;
    if (compareVersions(v, want) > 0) continue;
    if (!best || compareVersions(v, parseVersion(best.cuda)!) > 0) best = r;
  }
  return best;
}

/** The newest CUDA release whose toolkit driver is ≤ the installed driver (what `nvidia-smi` calls "CUDA Version"). */
export function maxCudaForDriver(driver: string): CudaDriverRow | null {
  const d = parseVersion(driver);
  if (!d) return null;
  for (const r of CUDA_DRIVER_TABLE) if (compareVersions(d, parseVersion(r.minLinuxDriver)!) >= 0) return r;
  return null;
}
