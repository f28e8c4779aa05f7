// parseCaptures: merges every capture of one host into HostFacts, with the documented fallbacks (docs/probe.md).
import { emptyFacts, type Captures, type GpuFacts, type HostFacts, type ProbeWarning, type RdmaPortFacts } from "../facts.js";
import { parseChronyTracking } from "./chrony.js";
import { parseContainerRuntimes } from "./containerRuntimes.js";
import { parseCpuinfo } from "./cpuinfo.js";
import { parseDfVar } from "./df.js";
import { parseIbdev2netdev, type RdmaNetdev } from "./ibdev2netdev.js";
import { parseIbstat } from "./ibstat.js";
import { parseIbvDevinfo } from "./ibvDevinfo.js";
import { parseIpAddr } from "./ipAddr.js";
import { parseLsblk } from "./lsblk.js";
import { parseLspci } from "./lspci.js";
import { parseMeminfo } from "./meminfo.js";
import { parseModules } from "./modules.js";
import { parseCapSysResource, parseCgroupFs } from "./kernelFeatures.js";
import { parseNetSpeed } from "./netSpeed.js";
import { parseNvcc } from "./nvcc.js";
import type { NvidiaSmiFacts } from "./nvidiaSmi.js";
import { parseNvidiaSmiCsv } from "./nvidiaSmiCsv.js";
import { parseNvidiaSmiText } from "./nvidiaSmiText.js";
import { parseNvidiaSmiXml } from "./nvidiaSmiXml.js";
import { parseNvidiaVersion } from "./nvidiaVersion.js";
import { parseOfedInfo } from "./ofedInfo.js";
import { parseOsRelease } from "./osRelease.js";
import { parseRdmaLink } from "./rdmaLink.js";
import { parseSs } from "./ss.js";
import { parseSwaps } from "./swaps.js";
import { parseTimedatectl } from "./timedatectl.js";
import { parseUname } from "./uname.js";
import type { Parsed } from "./util.js";

export type { Parsed } from "./util.js";

/** Pure: the same captures always give the same HostFacts; never throws, problems land in `warnings`. */
export function parseCaptures(host: string, captures: Captures): HostFacts {
  const facts = emptyFacts(host);
  const warnings: ProbeWarning[] = [];
  try {
    fill(facts, captures, warnings);
  } catch (err) {
    // A bug in the merge itself must not lose the host: report it and keep what was read.
    warnings.push({ capture: "*", message: `internal parser error: ${err instanceof Error ? err.message : String(err)}` });
  }
  facts.warnings = warnings;
  return facts;
}

function fill(facts: HostFacts, captures: Captures, warnings: ProbeWarning[]): void {
  const get = (name: string): string | undefined => {
    const v = captures.get(name);
    return typeof v === "string" && v.trim() !== "" ? v : undefined;
  };
  const take = <T>(p: Parsed<T>): T => {
    warnings.push(...p.warnings);
    return p.value;
  };

  const osText = get("os-release");
  if (osText !== undefined) facts.os = take(parseOsRelease(osText));
  const unameText = get("uname.txt");
  if (unameText !== undefined) {
    const u = take(parseUname(unameText));
    facts.kernel = u.kernel;
    facts.arch = u.arch;
  }
  const cpuText = get("cpuinfo.txt");
  if (cpuText !== undefined) facts.cpu = take(parseCpuinfo(cpuText));
  let meminfoSwap: number | null = null;
  const memText = get("meminfo.txt");
  if (memText !== undefined) {
    const m = take(parseMeminfo(memText));
    facts.memory = m.memory;
    meminfoSwap = m.swapTotalBytes;
  }

  // Disks: the JSON capture, else the text table.
  const lsblkJson = get("lsblk.json");
  const lsblkTxt = get("lsblk.txt");
  if (lsblkJson !== undefined) facts.disks = take(parseLsblk(lsblkJson, "lsblk.json"));
  else if (lsblkTxt !== undefined) facts.disks = take(parseLsblk(lsblkTxt, "lsblk.txt"));

  // GPUs: XML, else -q text, else query CSV, else lspci.
  const smi = firstWithGpus([
    ["nvidia-smi-q-x.xml", parseNvidiaSmiXml],
    ["nvidia-smi-q.txt", parseNvidiaSmiText],
    ["nvidia-smi-query.csv", parseNvidiaSmiCsv],
  ]);
  const lspciText = get("lspci.txt");
  const lspci = lspciText === undefined ? null : take(parseLspci(lspciText));
  facts.gpus = smi?.gpus.length ? smi.gpus : (lspci?.gpus ?? []);
  const moduleVersion = get("nvidia-version.txt") === undefined ? null : take(parseNvidiaVersion(get("nvidia-version.txt") ?? ""));
  const driver = smi?.driverVersion ?? moduleVersion;
  if (driver !== null && driver !== undefined) facts.gpuDriver = { version: driver, cudaVersion: smi?.cudaVersion ?? null };
  const nvccText = get("nvcc-version.txt");
  if (nvccText !== undefined) {
    const v = take(parseNvcc(nvccText));
    facts.cudaToolkit = v === null ? null : { version: v };
  }

  // RDMA ports: ibv_devinfo, else ibstat, else rdma link; netdev from ibdev2netdev, else rdma link.
  const rdmaLinkText = get("rdma-link.txt");
  const rdmaLink = rdmaLinkText === undefined ? [] : take(parseRdmaLink(rdmaLinkText));
  const devinfoText = get("ibv_devinfo.txt");
  const ibstatText = get("ibstat.txt");
  let ports: RdmaPortFacts[] = devinfoText === undefined ? [] : take(parseIbvDevinfo(devinfoText));
  if (ports.length === 0 && ibstatText !== undefined) ports = take(parseIbstat(ibstatText));
  if (ports.length === 0) ports = rdmaLink.map((p) => ({ ...p }));
  const i2nText = get("ibdev2netdev.txt");
  const mapping: RdmaNetdev[] = i2nText === undefined ? [] : take(parseIbdev2netdev(i2nText));
  for (const p of ports) {
    const fromMap = mapping.find((m) => m.device === p.device && m.port === p.port)?.netdev;
    const fromLink = rdmaLink.find((m) => m.device === p.device && m.port === p.port)?.netdev;
    p.netdev = p.netdev ?? fromMap ?? fromLink ?? null;
  }
  facts.rdma = ports;
  const ofedText = get("ofed_info.txt");
  if (ofedText !== undefined) facts.ofed = take(parseOfedInfo(ofedText));

  // NICs: ip -j addr, with speeds and the RDMA device that owns each netdev.
  const ipText = get("ip-addr.json");
  if (ipText !== undefined) facts.nics = take(parseIpAddr(ipText));
  const speedText = get("net-speed.txt");
  const speeds = speedText === undefined ? new Map<string, number | null>() : take(parseNetSpeed(speedText));
  const netdevToRdma = new Map<string, string>();
  for (const m of mapping) netdevToRdma.set(m.netdev, m.device);
  for (const p of ports) if (p.netdev !== null && !netdevToRdma.has(p.netdev)) netdevToRdma.set(p.netdev, p.device);
  for (const nic of facts.nics) {
    nic.speedMbps = speeds.get(nic.name) ?? null;
    nic.rdmaDevice = netdevToRdma.get(nic.name) ?? null;
  }

  // System facts for preflight.
  const swapsText = get("swaps.txt");
  const swap = swapsText === undefined ? null : take(parseSwaps(swapsText));
  facts.system.swapBytes = swap ?? meminfoSwap;
  const tdText = get("timedatectl.txt");
  const td = tdText === undefined ? null : take(parseTimedatectl(tdText));
  const chronyText = get("chronyc-tracking.txt");
  const chrony = chronyText === undefined ? null : take(parseChronyTracking(chronyText));
  const sync = td?.synchronized !== null && td?.synchronized !== undefined ? td : chrony;
  facts.system.timeSynchronized = sync?.synchronized ?? null;
  facts.system.ntpService = chrony?.ntpService ?? td?.ntpService ?? null;
  const rtText = get("container-runtimes.txt");
  if (rtText !== undefined) facts.system.containerRuntimes = take(parseContainerRuntimes(rtText));
  const dfText = get("df-var.txt");
  if (dfText !== undefined) facts.system.varFreeBytes = take(parseDfVar(dfText));
  const modText = get("modules.txt");
  if (modText !== undefined) facts.system.kernelModules = take(parseModules(modText));
  const ssText = get("ss-listen.txt");
  if (ssText !== undefined) facts.system.listeningPorts = take(parseSs(ssText));
  const cgText = get("cgroup-fs.txt");
  if (cgText !== undefined) facts.system.cgroupVersion = take(parseCgroupFs(cgText));
  const capText = get("capabilities.txt");
  if (capText !== undefined) facts.system.capSysResource = take(parseCapSysResource(capText));

  function firstWithGpus(order: [string, (t: string) => Parsed<NvidiaSmiFacts>][]): NvidiaSmiFacts | null {
    let firstParsed: NvidiaSmiFacts | null = null;
    for (const [name, parse] of order) {
      const t = get(name);
      if (t === undefined) continue;
      const r = take(parse(t));
      firstParsed = firstParsed ?? r;
      if (r.gpus.length > 0) return r;
    }
    return firstParsed;
  }
}

/** Every GPU as one line, for logs and tests. */
export function describeGpus(gpus: GpuFacts[]): string[] {
  return gpus.map((g) => `${g.index}: ${g.model}${g.memoryMiB === null ? "" : ` ${g.memoryMiB} MiB`}`);
}
