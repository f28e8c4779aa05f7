// `stat -f -c %T /sys/fs/cgroup` and the Cap* lines of /proc/self/status → cgroup version and CAP_SYS_RESOURCE.
import { lines, safely, type Parsed } from "./util.js";

/** cgroup2fs = the unified hierarchy (v2); tmpfs = v1 or hybrid (controllers mounted beneath it). */
export function parseCgroupFs(text: string): Parsed<1 | 2 | null> {
  return safely("cgroup-fs.txt", null, (sink) => {
    const t = text.trim();
    if (t === "cgroup2fs") return 2;
    if (t === "tmpfs" || t === "cgroupfs") return 1;
    sink.add(`unexpected filesystem type for /sys/fs/cgroup: ${JSON.stringify(t.slice(0, 60))}`);
    return null;
  });
}

/** CAP_SYS_RESOURCE is capability 24 (linux/capability.h); read from CapEff, else CapBnd. */
export const CAP_SYS_RESOURCE = 24;

/** True when the effective (else bounding) capability set has CAP_SYS_RESOURCE; null when neither line is readable. */
export function parseCapSysResource(text: string): Parsed<boolean | null> {
  return safely("capabilities.txt", null, (sink) => {
    const sets = new Map<string, bigint>();
    for (const line of lines(text)) {
      const m = /^(Cap[A-Za-z]+):\s*([0-9a-fA-F]{1,16})\s*$/.exec(line);
      if (m) sets.set(m[1]!, BigInt(`0x${m[2]}`));
    }
    const mask = sets.get("CapEff") ?? sets.get("CapBnd");
    if (mask === undefined) {
      if (text.trim() !== "") sink.add("no CapEff or CapBnd line");
      return null;
    }
    return ((mask >> BigInt(CAP_SYS_RESOURCE)) & 1n) === 1n;
  });
}
