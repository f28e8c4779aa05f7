// The local machine as a probe target: the same script through `sh -s`, no SSH.
import { spawn } from "node:child_process";
import { CommandError } from "../../errors.js";
import type { HostConnector, HostSession, ScriptResult } from "../../probe/ports.js";

/** Runs probe scripts on this machine. */
export class LocalSession implements HostSession {
  runScript(script: string, timeoutMs: number): Promise<ScriptResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-s"], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new CommandError("E_COMMAND_TIMEOUT", `local probe did not finish within ${Math.round(timeoutMs / 1000)} s`, "sh -s", null, Buffer.concat(err).toString(), { remedy: "a probe command hangs on this machine; see the log" }));
      }, timeoutMs);
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(new CommandError("E_COMMAND_FAILED", `cannot start sh: ${e.message}`, "sh -s", null, "", { remedy: "a POSIX shell must be at /bin/sh" }));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode: code, signal });
      });
      child.stdin.end(script);
    });
  }
  close(): void {}
}

/** Connector for the single local target. */
export const localConnector: HostConnector<{ name: string }> = {
  open: async () => new LocalSession(),
};
