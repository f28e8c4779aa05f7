// One error root with stable codes, so users, docs/errors.md and support can refer to a failure by name.

/** Where the bad input sits, for messages like `omstack.yaml:4:11`. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface OmstackErrorInit {
  remedy?: string;
  host?: string;
  location?: SourceLocation;
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Registry of every error code: code → short title and exit code class. Codes are never reused. */
export const ERROR_CODES = {
  // usage and input (exit 2)
  E_USAGE: { title: "bad command-line usage", exit: 2 },
  E_CONFIG_READ: { title: "a file could not be read", exit: 2 },
  E_CONFIG_SYNTAX: { title: "YAML syntax error", exit: 2 },
  E_CONFIG_SCHEMA: { title: "inventory does not match the schema", exit: 2 },
  E_CONFIG_DUPLICATE: { title: "duplicate host name or address", exit: 2 },
  E_KEY_UNREADABLE: { title: "SSH key file cannot be read", exit: 2 },
  E_HOST_UNKNOWN: { title: "a host named on the command line is not in the inventory", exit: 2 },
  E_CAPTURE_DIR: { title: "capture directory is missing or empty", exit: 2 },
  E_KNOWN_HOSTS_FILE: { title: "known_hosts file is malformed or unwritable", exit: 2 },
  // operation failures (exit 1)
  E_SSH_CONNECT: { title: "cannot connect to the host", exit: 1 },
  E_SSH_TIMEOUT: { title: "the host did not answer in time", exit: 1 },
  E_SSH_AUTH: { title: "the host rejected the credentials", exit: 1 },
  E_SSH_HOSTKEY_UNKNOWN: { title: "the host key is not yet trusted", exit: 1 },
  E_SSH_HOSTKEY_CHANGED: { title: "the host key changed", exit: 1 },
  E_SSH_BASTION: { title: "the bastion (jump host) failed", exit: 1 },
  E_SUDO: { title: "sudo failed on the host", exit: 1 },
  E_COMMAND_TIMEOUT: { title: "a command did not finish in time", exit: 1 },
  E_COMMAND_FAILED: { title: "a command failed", exit: 1 },
  E_PROBE_OUTPUT: { title: "the probe output could not be read", exit: 1 },
  E_PROBE_FAILED: { title: "one or more hosts could not be probed", exit: 1 },
  E_INTERNAL: { title: "internal error (a bug)", exit: 70 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The root of every expected failure: what happened, where, and how to fix it. */
export class OmstackError extends Error {
  readonly code: ErrorCode;
  readonly remedy: string | undefined;
  readonly host: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, init: OmstackErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "OmstackError";
    this.code = code;
    this.remedy = init.remedy;
    this.host = init.host;
    this.location = init.location;
    this.details = init.details;
  }

  /** Exit status for the CLI: 2 for bad input, 1 for a failed operation. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** One human line (plus a fix line): `host: file:line:col: message`. */
  format(): string {
    const where = [
      this.host,
      this.location ? `${this.location.file}:${this.location.line}:${this.location.column}` : undefined,
    ]
      .filter(Boolean)
      .join(": ");
    const head = `${where ? where + ": " : ""}${this.message} [${this.code}]`;
    return this.remedy ? `${head}\n  fix: ${this.remedy}` : head;
  }
}

/** Several failures reported together (preflight, multi-host work): nothing is hidden behind the first. */
export class AggregateOmstackError extends OmstackError {
  readonly errors: OmstackError[];
  constructor(code: ErrorCode, summary: string, errors: OmstackError[]) {
    super(code, summary);
    this.errors = errors;
  }
  override format(): string {
    return [super.format(), ...this.errors.map((e) => "  " + e.format().replace(/\n/g, "\n  "))].join("\n");
  }
}

/** A remote or local command that failed: keeps argv, exit code and the tail of its output. */
export class CommandError extends OmstackError {
  readonly command: string;
  readonly exitStatus: number | null;
  readonly outputTail: string;
  constructor(code: ErrorCode, message: string, command: string, exitStatus: number | null, output: string, init: OmstackErrorInit = {}) {
    super(code, message, init);
    this.command = command;
    this.exitStatus = exitStatus;
    this.outputTail = tail(output, 20);
  }
  override format(): string {
    const tailText = this.outputTail ? `\n  output (last lines):\n    ${this.outputTail.replace(/\n/g, "\n    ")}` : "";
    return `${super.format()}\n  command: ${this.command}\n  exit status: ${this.exitStatus ?? "none (killed or disconnected)"}${tailText}`;
  }
}

/** Last `lines` lines of a text, for error messages that must stay readable. */
export function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, "").split("\n");
  return all.slice(-lines).join("\n");
}

/** True for errors the user can act on; anything else is a bug and is reported as one. */
export function isOmstackError(e: unknown): e is OmstackError {
  return e instanceof OmstackError;
}
