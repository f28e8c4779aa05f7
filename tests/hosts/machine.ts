// Small adapters over the machine the harness runs on: running a command, finding a tool, reading /proc.

import { execFile, spawn } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { PATH_DIRS } from "./profile-plan.js";

/** A failed machine command, with its argv and output tail, so a harness failure explains itself. */
export class LabError extends Error {
  override name = "LabError";
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command; rejects with a LabError naming argv, exit code and stderr unless allowFail. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args as string[],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        if (err !== null && !opts.allowFail) {
          reject(
            new LabError(
              `test hosts: \`${[cmd, ...args].join(" ")}\` failed (exit ${String(err.code ?? err.signal ?? "?")}): ${tail(stderr || err.message)}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Last lines of a text, for error messages. */
export function tail(text: string, lines = 8): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** Every place a command exists in root's PATH on the machine; /bin and /sbin duplicates of /usr are dropped. */
export function locateOnMachine(tool: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dir of PATH_DIRS) {
    const p = `${dir}/${tool}`;
    try {
      lstatSync(p);
    } catch {
      continue;
    }
    let dirReal: string;
    try {
      dirReal = realpathSync(dir);
    } catch {
      continue;
    }
    // /bin → /usr/bin on merged-/usr systems: the /usr path is the one to hide
    const canonical = `${dirReal}/${tool}`;
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    out.push(canonical);
  }
  if (tool === "nvcc" && existsSync("/usr/local/cuda/bin/nvcc")) out.push("/usr/local/cuda/bin/nvcc");
  return out;
}

/** /proc/PID/cmdline as one string (NULs as spaces), or null when the process is gone. */
export function cmdlineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return null;
  }
}

/** Start time (clock ticks since boot) of a process, to tell a PID from a later reuse; null when gone. */
export function startTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** True while a PID exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Waits until a PID has vanished from /proc (reaped), up to timeoutMs; returns whether it stopped running. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(`/proc/${pid}`)) return true;
    await sleep(20);
  }
  return !isRunning(pid);
}

/** PIDs of all processes whose cmdline matches, with that cmdline. */
export function findProcesses(match: (cmdline: string) => boolean): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const cmd = cmdlineOf(pid);
    if (cmd !== null && cmd !== "" && match(cmd)) out.push({ pid, cmdline: cmd });
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a detached process with stdout/stderr to a file descriptor; resolves its PID once spawned. */
export function spawnDetached(
  cmd: string,
  args: readonly string[],
  logFd: number,
  onExit: (code: number | null) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { detached: true, stdio: ["ignore", logFd, logFd] });
    child.once("error", (e) => reject(new LabError(`test hosts: cannot start ${cmd}: ${e.message}`)));
    child.once("spawn", () => {
      child.unref();
      resolve(child.pid ?? -1);
    });
    child.once("exit", (code) => onExit(code));
  });
}
