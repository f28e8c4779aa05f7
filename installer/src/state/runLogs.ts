// Full-detail logs of one run: a folder per run under the state directory, one 0600 file per host, appended line by line.
import { appendFileSync, closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import type { RunLogs } from "../executor/ports.js";

/** Log files under `<stateDir>/logs/run-<id>/<host>.log`; synchronous appends, so a kill -9 loses no written line. */
export class FileRunLogs implements RunLogs {
  private readonly fds = new Map<string, number>();
  readonly dir: string;

  constructor(stateDir: string, runId: number) {
    this.dir = join(stateDir, "logs", `run-${runId}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  pathFor(host: string): string {
    return join(this.dir, `${host.replace(/[^A-Za-z0-9._-]/g, "_")}.log`);
  }

  write(host: string, line: string): void {
    let fd = this.fds.get(host);
    if (fd === undefined) {
      fd = openSync(this.pathFor(host), "a", 0o600);
      this.fds.set(host, fd);
    }
    appendFileSync(fd, `${new Date().toISOString()} ${line}\n`);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** Logs kept in memory (dry-run writes no file; tests read them back). */
export class MemoryRunLogs implements RunLogs {
  readonly lines = new Map<string, string[]>();
  pathFor(host: string): string {
    return `memory:${host}`;
  }
  write(host: string, line: string): void {
    const l = this.lines.get(host) ?? [];
    l.push(line);
    this.lines.set(host, l);
  }
  close(): void {}
}
