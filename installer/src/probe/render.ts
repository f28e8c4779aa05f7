// The human view of HostFacts: one block per host that an IT person reads at a glance.
import type { DiskFacts, GpuFacts, HostFacts } from "./facts.js";

/** Bytes in binary units, e.g. "1.5 TiB". */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Styling hooks so the same renderer serves colour terminals, NO_COLOR and pipes. */
export interface Style {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** No styling at all (NO_COLOR, pipes, files). */
export const plainStyle: Style = { ok: (s) => s, bad: (s) => s, warn: (s) => s, dim: (s) => s, bold: (s) => s };

/** ANSI colours for terminals that allow them. */
export const ansiStyle: Style = {
  ok: (s) => `\x1b[32m${s}\x1b[0m`,
  bad: (s) => `\x1b[31m${s}\x1b[0m`,
  warn: (s) => `\x1b[33m${s}\x1b[0m`,
  dim: (s) => `\x1b[2m${s}\x1b[0m`,
  bold: (s) => `\x1b[1m${s}\x1b[0m`,
};

function groupGpus(gpus: GpuFacts[]): string[] {
  const groups = new Map<string, GpuFacts[]>();
  for (const g of gpus) {
    const key = `${g.model}|${g.memoryMiB}|${g.migMode}`;
    groups.set(key, [...(groups.get(key) ?? []), g]);
  }
  return [...groups.values()].map((gs) => {
    const g = gs[0]!;
    const mem = g.memoryMiB !== null ? `, ${g.memoryMiB} MiB each` : "";
    const mig = g.migMode === "enabled" ? `, MIG on (${gs.reduce((n, x) => n + x.migDevices.length, 0)} instances)` : g.migMode === "disabled" ? ", MIG off" : "";
    const src = g.source === "lspci" ? " (from lspci: driver tools missing)" : "";
    return `${gs.length} x ${g.model}${mem}${mig}${src}`;
  });
}

function diskKind(d: DiskFacts): string {
  if (d.transport === "nvme" || d.name.startsWith("nvme")) return "NVMe";
  if (d.rotational === true) return "HDD";
  if (d.rotational === false) return "SSD";
  return d.type;
}

function diskInUse(d: DiskFacts): boolean {
  return d.mountpoints.length > 0 || d.fstype !== null || d.children.length > 0;
}

function diskLine(d: DiskFacts): string {
  const use = diskInUse(d) ? `in use${d.mountpoints.length ? ` (${d.mountpoints.join(", ")})` : d.children.length ? ` (${d.children.length} partitions)` : d.fstype ? ` (${d.fstype})` : ""}` : "free";
  return `${d.name} ${formatBytes(d.sizeBytes)} ${diskKind(d)}${d.model ? ` ${d.model}` : ""} - ${use}`;
}

/** One host's block. */
export function renderHost(f: HostFacts, s: Style): string {
  const lines: string[] = [];
  if (!f.reachable) {
    lines.push(`${s.bold(f.host)}  ${s.bad("FAILED")}  ${f.error ?? "unknown error"}${f.errorCode ? s.dim(` [${f.errorCode}]`) : ""}`);
    return lines.join("\n") + "\n";
  }
  const os = f.os ? f.os.prettyName ?? `${f.os.id} ${f.os.versionId ?? ""}` : "OS unknown";
  const dur = f.durationMs !== null ? s.dim(` (${(f.durationMs / 1000).toFixed(2)} s)`) : "";
  lines.push(`${s.bold(f.host)}  ${s.ok("OK")}${dur}  ${os}, kernel ${f.kernel ?? "?"}, ${f.arch ?? "?"}`);
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(9)}${text}`);
  if (f.cpu) row("CPU", `${f.cpu.sockets ?? "?"} socket(s) x ${f.cpu.model ?? "unknown model"}, ${f.cpu.cores ?? "?"} cores / ${f.cpu.threads ?? "?"} threads`);
  if (f.memory) row("Memory", formatBytes(f.memory.totalBytes));
  if (f.gpus.length === 0) row("GPUs", s.dim("none"));
  else {
    const drv = f.gpuDriver ? `driver ${f.gpuDriver.version}${f.gpuDriver.cudaVersion ? `, CUDA ${f.gpuDriver.cudaVersion}` : ""}` : "driver not loaded";
    groupGpus(f.gpus).forEach((g, i) => row(i === 0 ? "GPUs" : "", g));
    row("", drv + (f.cudaToolkit ? `; toolkit ${f.cudaToolkit.version}` : ""));
  }
  if (f.rdma.length === 0) row("RDMA", s.dim("none"));
  f.rdma.forEach((p, i) => {
    const kind = p.linkLayer === "InfiniBand" ? "IB" : p.linkLayer === "Ethernet" ? "RoCE" : "?";
    const state = p.state === "ACTIVE" ? s.ok(p.state) : s.warn(p.state ?? "state ?");
    row(i === 0 ? "RDMA" : "", `${p.device}/${p.port} ${kind} ${state}${p.rateGbps !== null ? ` ${p.rateGbps} Gb/s` : ""}${p.netdev ? ` ${p.netdev}` : ""}`);
  });
  if (f.ofed) row("", `OFED ${f.ofed.version}`);
  const disks = f.disks.filter((d) => d.type === "disk");
  if (disks.length === 0) row("Disks", s.dim("none found"));
  disks.forEach((d, i) => row(i === 0 ? "Disks" : "", diskLine(d)));
  const nics = f.nics.filter((n) => n.name !== "lo");
  if (nics.length > 0) row("NICs", nics.map((n) => `${n.name}${n.speedMbps ? ` ${n.speedMbps / 1000} Gb/s` : ""}${n.addresses.length ? ` ${n.addresses[0]}` : ""}`).join("; "));
  if (f.missingTools.length > 0) row("Absent", s.dim(f.missingTools.join(", ")));
  for (const w of f.warnings) row("Warning", s.warn(`${w.capture}: ${w.message}`));
  return lines.join("\n") + "\n";
}

/** All hosts plus a one-line summary. */
export function renderProbe(all: HostFacts[], s: Style): string {
  const failed = all.filter((f) => !f.reachable).length;
  const summary = failed === 0 ? s.ok(`${all.length} host(s) probed`) : s.bad(`${all.length - failed} of ${all.length} host(s) probed, ${failed} failed`);
  return all.map((f) => renderHost(f, s)).join("\n") + "\n" + summary + "\n";
}
