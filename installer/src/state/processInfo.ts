// Is a process still the one that took a lock? PID plus its kernel start time, so a reused PID is not mistaken for the owner.
import { readFileSync } from "node:fs";

/** The process start time in clock ticks since boot (field 22 of /proc/PID/stat), or null when it is gone or unreadable. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: fields after the last ")" are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** True when `pid` runs and (if a start time was recorded) is the same process that recorded it. */
export function processAlive(pid: number, startTime: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  if (startTime === null) return true;
  const now = processStartTime(pid);
  return now === null ? true : now === startTime;
}
