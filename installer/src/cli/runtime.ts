// What every command shares: output format, colour, the full-detail log file, and the one place errors become exit codes.
import { mkdirSync, chmodSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import pinoDefault from "pino";
import { stringify as yamlStringify } from "yaml";
import { OmstackError, isOmstackError } from "../errors.js";

export type OutputFormat = "table" | "json" | "yaml";

/** The global flags, parsed once by the program and handed to each command. */
export interface GlobalOptions {
  output: OutputFormat;
  debug: boolean;
  logFile?: string;
}

/** Per-invocation services handed to a command's action: printing, logging, terminal facts. */
export interface Runtime {
  readonly output: OutputFormat;
  readonly debug: boolean;
  readonly color: boolean;
  readonly isTTY: boolean;
  readonly log: Logger;
  readonly logPath: string;
  /** Machine-readable result (json/yaml) or a human rendering (table). */
  print(data: unknown, human: () => string): void;
  /** Progress and notices go to stderr so stdout stays parseable. */
  note(line: string): void;
}

/** True when colour is allowed: a TTY and no NO_COLOR (https://no-color.org). */
export function colorEnabled(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(stream.isTTY) && process.env.TERM !== "dumb";
}

function defaultLogDir(): string {
  const candidates = [process.env.OMSTACK_LOG_DIR, process.getuid?.() === 0 ? "/var/log/omstack" : undefined, join(homedir(), ".local/state/omstack/logs"), join(tmpdir(), "omstack-logs")];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return dir;
    } catch {
      /* try the next one */
    }
  }
  return tmpdir();
}

/** Builds the runtime for one command; the log file is created 0600 and always written. */
export function createRuntime(command: string, opts: GlobalOptions): Runtime {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const logPath = opts.logFile ?? join(defaultLogDir(), `omstack-${command}-${stamp}-${process.pid}.log`);
  const dest = pinoDefault.destination({ dest: logPath, sync: true, mkdir: true });
  try {
    chmodSync(logPath, 0o600);
  } catch {
    /* the log still works; the mode is best effort on exotic filesystems */
  }
  const log = pino({ level: "debug", base: { cmd: command } }, dest);
  const isTTY = Boolean(process.stderr.isTTY);
  const color = colorEnabled(process.stderr);
  return {
    output: opts.output,
    debug: opts.debug,
    color,
    isTTY,
    log,
    logPath,
    print(data, human) {
      if (opts.output === "json") process.stdout.write(JSON.stringify(data, null, 2) + "\n");
      else if (opts.output === "yaml") process.stdout.write(yamlStringify(data));
      else process.stdout.write(human());
    },
    note(line) {
      process.stderr.write(line + "\n");
    },
  };
}

/** Turns any thrown value into printed text and an exit code: 1/2 for expected failures, 70 for bugs. */
export function reportError(e: unknown, rt: Pick<Runtime, "debug" | "logPath" | "log"> | null): number {
  if (isOmstackError(e)) {
    rt?.log.error({ code: e.code, err: e, details: e.details }, e.message);
    process.stderr.write(`error: ${e.format()}\n`);
    if (rt?.debug && e.stack) process.stderr.write(e.stack + "\n");
    if (rt) process.stderr.write(`log: ${rt.logPath}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  rt?.log.fatal({ err }, "internal error");
  process.stderr.write(`internal error: ${err.message} [E_INTERNAL]\n`);
  process.stderr.write(rt?.debug ? `${err.stack}\n` : "  (run again with --debug for the stack trace)\n");
  process.stderr.write(
    `  This is a bug in omstack ${process.env.npm_package_version ?? ""} (node ${process.version}). Please report it with the log file${rt ? `: ${rt.logPath}` : ""}.\n`,
  );
  return 70;
}

/** A usage error with a fix, for commands validating their own flags. */
export function usageError(message: string, remedy: string): OmstackError {
  return new OmstackError("E_USAGE", message, { remedy });
}
