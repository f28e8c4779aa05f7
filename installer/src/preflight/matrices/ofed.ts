// MLNX_OFED ↔ OS: the distributions (and their default kernels) each OFED release lists as supported on x86_64.
import { parseVersion } from "../expressions/index.js";
import { MLNX_OFED_58, MLNX_OFED_59, type Source } from "./sources.js";

/** One supported OS of one OFED release line; osId/versionId as /etc/os-release writes them. */
export interface OfedOsRow {
  ofed: string;
  osId: string;
  versionId: string;
  arch: string;
  defaultKernel: string;
  vendorName: string;
  source: Source;
}

const r58 = (osId: string, versionId: string, defaultKernel: string, vendorName: string): OfedOsRow => ({ ofed: "5.8", osId, versionId, arch: "x86_64", defaultKernel, vendorName, source: MLNX_OFED_58 });
const r59 = (osId: string, versionId: string, defaultKernel: string, vendorName: string): OfedOsRow => ({ ofed: "5.9", osId, versionId, arch: "x86_64", defaultKernel, vendorName, source: MLNX_OFED_59 });

/** Rows read from the vendor tables (only the x86_64 rows of OSes OMStack supports). */
export const OFED_OS_TABLE: readonly OfedOsRow[] = [
  r58("debian", "10", "4.19.0-14-amd64", "Debian10.8"),
  r58("debian", "10", "4.19.0-16-amd64", "Debian10.9"),
  r58("debian", "11", "5.10.0-13-amd64", "Debian11.3"),
  r58("kylin", "V10", "4.19.90-17.ky10.x86_64", "KYLIN10"),
  r58("kylin", "V10", "4.19.90-24.4.v2101.ky10.x86_64", "KYLIN10SP2"),
  r58("openEuler", "20.03", "4.19.90-2112.8.0.0131.oe1.x86_64", "OPENEULER20.03SP3"),
  r59("ubuntu", "20.04", "5.4.0-26-generic", "Ubuntu20.04"),
  r59("ubuntu", "22.04", "5.15.0-25-generic", "Ubuntu22.04"),
  r59("rhel", "9.1", "5.14.0-162.6.1.el9_1.x86_64", "RHEL/Rocky9.1"),
  r59("rocky", "9.1", "5.14.0-162.6.1.el9_1.x86_64", "RHEL/Rocky9.1"),
];

/** "5.8-1.0.1.1" or "MLNX_OFED_LINUX-5.8-1.0.1.1" → "5.8". */
export function ofedLine(version: string): string | null {
  const v = parseVersion(version.replace(/^[A-Za-z_]+-/, ""));
  return v ? `${v.parts[0]}.${v.parts[1] ?? 0}` : null;
}

/** Whether NVIDIA lists this OS for the OFED release line: true, false, or null when the line is not in the table. */
export function ofedSupportsOs(version: string, osId: string, versionId: string | null): boolean | null {
  const line = ofedLine(version);
  const rows = OFED_OS_TABLE.filter((r) => r.ofed === line);
  if (rows.length === 0) return null;
  const major = (versionId ?? "").split(".")[0] ?? "";
  return rows.some((r) => r.osId.toLowerCase() === osId.toLowerCase() && (r.versionId === versionId || r.versionId === major || (versionId ?? "").toUpperCase().startsWith(r.versionId.toUpperCase())));
}
