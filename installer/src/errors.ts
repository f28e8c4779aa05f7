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
  E_CONFIG_WRITE: { title: "the install config (omstack.yaml) could not be written", exit: 2 },
  E_KEY_UNREADABLE: { title: "SSH key file cannot be read", exit: 2 },
  E_HOST_UNKNOWN: { title: "a host named on the command line is not in the inventory", exit: 2 },
  E_CAPTURE_DIR: { title: "capture directory is missing or empty", exit: 2 },
  E_KNOWN_HOSTS_FILE: { title: "known_hosts file is malformed or unwritable", exit: 2 },
  E_ADMIN_LISTEN: { title: "the admin service listen address or TLS option is not allowed", exit: 2 },
  E_ADMIN_STATE_DIR: { title: "the admin state directory cannot be used", exit: 2 },
  E_ADMIN_PASSWORD_INPUT: { title: "no usable password was given on standard input", exit: 2 },
  E_EXPR_SYNTAX: { title: "a resource expression has a syntax error", exit: 2 },
  E_EXPR_TYPE: { title: "a resource expression uses a value of the wrong type or an unknown name", exit: 2 },
  E_EXPR_LIMIT: { title: "a resource expression exceeds a size, depth, number or evaluation limit", exit: 2 },
  E_SERVICE_SPEC: { title: "a service.yaml does not match its schema", exit: 2 },
  E_PREFLIGHT_IGNORE: { title: "--ignore names a check that does not exist", exit: 2 },
  E_FACTS_HOST_MISSING: { title: "an inventory host has no facts in the --facts file or capture directory", exit: 2 },
  E_PLAN_FILE: { title: "the file given to --diff is not a plan saved by omstack plan", exit: 2 },
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
  E_PREFLIGHT_FAILED: { title: "preflight checks failed, so no plan was made", exit: 1 },
  // offline bundle (docs/bundle.md)
  E_BUNDLE_RECIPE: { title: "the bundle recipe is invalid", exit: 2 },
  E_BUNDLE_KEY: { title: "a signing or trust key cannot be read or is not ed25519", exit: 2 },
  E_BUNDLE_UNTRUSTED: { title: "no trusted public key was given for a bundle", exit: 2 },
  E_BUNDLE_READ: { title: "the bundle file cannot be opened", exit: 2 },
  E_BUNDLE_TARGET_EXISTS: { title: "the output or extraction target already exists", exit: 2 },
  E_BUNDLE_TRUNCATED: { title: "the bundle is truncated", exit: 1 },
  E_BUNDLE_MALFORMED: { title: "the bundle is not a valid omstack bundle", exit: 1 },
  E_BUNDLE_UNSIGNED: { title: "the bundle carries no signature", exit: 1 },
  E_BUNDLE_SIGNATURE: { title: "the bundle signature does not verify with any trusted key", exit: 1 },
  E_BUNDLE_CHECKSUM: { title: "a file in the bundle does not match its recorded sha256 or size", exit: 1 },
  E_BUNDLE_MISSING_FILE: { title: "a file listed in bundle.json is not in the bundle", exit: 1 },
  E_BUNDLE_UNLISTED_FILE: { title: "the bundle holds a file bundle.json does not list", exit: 1 },
  E_BUNDLE_DUPLICATE_ENTRY: { title: "the bundle holds the same path twice", exit: 1 },
  E_BUNDLE_UNSAFE_PATH: { title: "a bundle entry path is absolute or climbs out of the target", exit: 1 },
  E_BUNDLE_UNSAFE_LINK: { title: "a bundle link points outside the bundle or is a hard link", exit: 1 },
  E_BUNDLE_UNSAFE_TYPE: { title: "a bundle entry is a device, FIFO or other special file", exit: 1 },
  E_BUNDLE_SOURCE_DIGEST: { title: "a downloaded or local artifact does not match its pinned digest", exit: 1 },
  E_BUNDLE_FETCH: { title: "an artifact could not be downloaded", exit: 1 },
  E_BUNDLE_WRITE: { title: "the bundle or its files could not be written", exit: 1 },
  E_BUNDLE_DELTA_BASE: { title: "a delta bundle needs the bundle it was built against", exit: 1 },
  E_REGISTRY_AUTH: { title: "the container registry refused the credentials or token", exit: 1 },
  E_IMAGES_LOCK: { title: "images.lock is missing an image or out of date", exit: 1 },
  // admin service (HTTP status in installer/src/admin/http/errors.ts)
  E_ADMIN_BAD_REQUEST: { title: "the request body or query does not match the API schema", exit: 2 },
  E_ADMIN_MALFORMED_JSON: { title: "the request body is not valid JSON", exit: 2 },
  E_ADMIN_BODY_TOO_LARGE: { title: "the request body or upload is larger than allowed", exit: 2 },
  E_ADMIN_UNSUPPORTED_MEDIA: { title: "the request body has an unsupported content type", exit: 2 },
  E_ADMIN_UNAUTHENTICATED: { title: "no valid session: log in first", exit: 1 },
  E_ADMIN_LOGIN_FAILED: { title: "wrong user name or password", exit: 1 },
  E_ADMIN_LOCKED: { title: "too many failed logins: account or address temporarily locked", exit: 1 },
  E_ADMIN_CSRF: { title: "missing or wrong CSRF token", exit: 1 },
  E_ADMIN_FORBIDDEN: { title: "the user's role does not allow this", exit: 1 },
  E_ADMIN_NOT_FOUND: { title: "no such resource", exit: 1 },
  E_ADMIN_CONFLICT: { title: "the change conflicts with the current state", exit: 1 },
  E_ADMIN_USER_EXISTS: { title: "a user with that name already exists", exit: 1 },
  E_ADMIN_USER_UNKNOWN: { title: "no user with that name", exit: 1 },
  E_ADMIN_LAST_ADMIN: { title: "the last admin cannot be removed or demoted", exit: 1 },
  E_ADMIN_WEAK_PASSWORD: { title: "the password is too short or too long", exit: 2 },
  E_ADMIN_BAD_FILENAME: { title: "a file name is not a plain name (path traversal)", exit: 2 },
  E_ADMIN_BUNDLE_INVALID: { title: "the bundle failed verification", exit: 1 },
  E_ADMIN_UPGRADE_RUNNING: { title: "an upgrade is already running", exit: 1 },
  E_ADMIN_UPGRADE_UNAVAILABLE: { title: "no upgrade engine is connected to this admin service", exit: 1 },
  E_ADMIN_SUPPORT_FAILED: { title: "the support bundle could not be gathered", exit: 1 },
  E_ADMIN_TLS: { title: "the TLS certificate could not be created or read", exit: 1 },
  // install engine: executor, journal, locks, steps (docs/install.md)
  E_INSTALL_STATE: { title: "the install state directory or journal cannot be used", exit: 2 },
  E_INSTALL_LOCKED: { title: "another omstack install is running from this state directory", exit: 1 },
  E_INSTALL_HOST_LOCKED: { title: "another installer holds the lock on a host", exit: 1 },
  E_INSTALL_PREVIOUS_FAILED: { title: "the previous run failed; --retry-failed or --from-step is required", exit: 1 },
  E_INSTALL_FROM_STEP: { title: "--from-step names a step that is not in this install", exit: 2 },
  E_INSTALL_FAILED: { title: "one or more steps failed", exit: 1 },
  E_INSTALL_INTERRUPTED: { title: "the install was interrupted before it finished", exit: 1 },
  E_STEP_CONFIG: { title: "a step was given an invalid setting", exit: 2 },
  E_STEP_VERIFY: { title: "a step's post-condition does not hold after it was applied", exit: 1 },
  E_BUNDLE_PART_MISSING: { title: "the bundle lacks a file an install step needs", exit: 1 },
  E_CONTAINERD_MISSING: { title: "containerd (or its ctr client) is not installed on a node", exit: 1 },
  E_IMAGE_MISSING: { title: "an image Kubernetes needs is not in containerd and will not be pulled", exit: 1 },
  E_KUBE_OUTPUT: { title: "kubectl or kubeadm printed output omstack does not understand", exit: 1 },
  E_CNI_NO_PODCIDR: { title: "the cluster gave a node no pod range (podCIDR)", exit: 1 },
  E_CLUSTER_NOT_READY: { title: "nodes or system pods did not become ready in time", exit: 1 },
  E_STEP_SOURCE: { title: "a local file to push is missing or does not match its recorded sha256", exit: 1 },
  E_PUSH_CHECKSUM: { title: "a pushed file arrived on the host with a different sha256", exit: 1 },
  // services installed with helm (docs/install.md "Service steps (helm)")
  E_HELM_UNAVAILABLE: { title: "the bundled helm binary or the admin kubeconfig is missing on this machine", exit: 1 },
  E_HELM_FAILED: { title: "a helm command failed", exit: 1 },
  E_HELM_OUTPUT: { title: "helm printed output omstack does not understand", exit: 1 },
  E_SERVICE_IMAGE_MISSING: { title: "a service chart uses an image the bundle does not carry", exit: 1 },
  E_SERVICE_NOT_READY: { title: "a service's pods did not become ready in time", exit: 1 },
  // admin service installed by omstack install (docs/admin.md, "Installed by omstack install")
  E_ADMIN_SERVICE_NO_SYSTEMD: { title: "the admin service's node does not run systemd as PID 1", exit: 1 },
  E_ADMIN_SERVICE_PREREQ: { title: "a tool the admin service needs is missing on its node", exit: 1 },
  E_ADMIN_SERVICE_START: { title: "the admin service did not answer on its port after it was started", exit: 1 },
  E_ADMIN_JOURNAL_FORMAT: { title: "the file given to admin import-journal is not an install journal or journal export", exit: 2 },
  // storage and device steps (docs/install.md "Storage and device steps")
  E_STEP_OUTPUT: { title: "a command a step reads printed output the installer cannot parse", exit: 1 },
  E_LVM_UNAVAILABLE: { title: "LVM tools (lvm2) or the kernel's device-mapper are missing on a host", exit: 1 },
  E_LVM_DISK_MISSING: { title: "a disk the plan gives to a volume group does not exist on the host", exit: 1 },
  E_LVM_DISK_IN_USE: { title: "a planned disk holds data and the plan does not say to erase it", exit: 1 },
  E_LVM_DISK_BUSY: { title: "a planned disk is mounted or held by another device, so it is never erased", exit: 1 },
  E_LVM_VG_FOREIGN: { title: "a planned volume group already holds disks outside the plan", exit: 1 },
  E_GPU_DRIVER_MISSING: { title: "the NVIDIA kernel driver is not loaded on a GPU node", exit: 1 },
  E_GPU_SMI_FAILED: { title: "nvidia-smi is missing, hangs or fails on a GPU node", exit: 1 },
  E_GPU_DEVICE_NODES: { title: "NVIDIA device nodes under /dev are missing on a GPU node", exit: 1 },
  E_GPU_COUNT: { title: "a GPU node shows fewer GPUs than the plan expects", exit: 1 },
  E_RDMA_PORT_MISSING: { title: "no RDMA port carries the interface the plan chose", exit: 1 },
  E_RDMA_PORT_DOWN: { title: "the RDMA port of the planned interface is not ACTIVE", exit: 1 },
  E_RDMA_LINK_LAYER: { title: "the RDMA port's link layer differs from the plan", exit: 1 },
  // host packages and firewall (docs/install.md "Packages and firewall")
  E_HOST_RUNTIME_MISSING: { title: "containerd, runc or the CNI plugins are missing on a node and the bundle cannot install them", exit: 1 },
  E_HOST_PACKAGES_FAILED: { title: "installing the bundle's OS packages with dpkg failed on a node", exit: 1 },
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
