// Runs the built CLI (bin/omstack.js) as a user would, capturing exit code and both streams.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";

/** Repository root, for fixtures and the CLI entry. */
export const repoRoot = resolve(import.meta.dirname, "../..");
/** The CLI entry point that `npx omstack` runs. */
export const cliPath = join(repoRoot, "bin/omstack.js");

/** Result of one CLI run; `code` is the process exit status. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `omstack ARGS` with NO_COLOR and no terminal; never throws on a non-zero exit. */
export function omstack(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [cliPath, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
