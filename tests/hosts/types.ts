// Public shapes of the SSH test-host harness, shared by lab.ts, cli.ts and the tests that use them.

/** Misbehaviours a test host can be started with, so probe/install tests see each failure mode for real. */
export type TestHostFault =
  | "hang" // one probe tool (spec.hangTool, default nvidia-smi) sleeps forever
  | "garbage" // every profile file (shim output, /proc files, os-release) is random bytes
  | "reject-key" // authorized_keys holds a key other than the lab's client key
  | "unreachable" // address in the inventory, but no namespace and no sshd behind it
  | "slow" // every shim sleeps 2 s before answering
  | "changed-host-key"; // knownHostsText() lists a key other than the one the sshd serves

/** What a test asks for: one host. */
export interface TestHostSpec {
  /** Host name: becomes the UTS hostname and the inventory name (letters, digits, '-', '.'). */
  name: string;
  /** Hardware profile: a folder name under tests/fixtures/hosts/, or an absolute path to such a folder. */
  profile?: string;
  fault?: TestHostFault;
  /** The tool that hangs with fault "hang" (default "nvidia-smi"). */
  hangTool?: string;
  /** Tools (or container runtimes) whose real command stays visible on a profiled host although the profile lacks their file (e.g. ["ip"]). */
  keepTools?: string[];
  /** Extra commands to remove from this host's view (e.g. ["docker"]). */
  hideCommands?: string[];
}

/** One running (or deliberately unreachable) test host. */
export interface TestHost {
  name: string;
  address: string;
  port: number;
  user: "root";
  /** The lab's client private key (0600). */
  identityFile: string;
  /** OpenSSH public key line of the key the sshd serves now ("ssh-ed25519 AAAA… name"). */
  hostKeyLine: string;
  /** "SHA256:…" of hostKeyLine, as ssh-keygen -l prints it. */
  hostKeyFingerprint: string;
  /** The key knownHostsText() records for this host (differs from hostKeyLine after rotateHostKey or with fault "changed-host-key"). */
  knownHostKeyLine: string;
  /** The host's overlay upper dir: every file a test writes on the host lands here (path = rootDir + host path). */
  rootDir: string;
  /** PID of the host's sshd in the root PID namespace; null for an unreachable host. */
  pid: number | null;
  fault: TestHostFault | null;
  /** Absolute profile folder, or null for a host that shows the machine's own tools. */
  profileDir: string | null;
  /** sshd -e output (LogLevel VERBOSE). */
  logFile: string;
  /** Profile files this kernel cannot show (a /proc entry it lacks, e.g. modules.txt without module support). */
  unshownProfileFiles: string[];
}

/** A set of running test hosts and how to stop them. */
export interface TestLab {
  /** Prefix of every netns, link and lock this lab made ("oml<subnet>"). */
  prefix: string;
  subnetIndex: number;
  /** The lab's own folder (inside opts.runDir); stop() deletes it. */
  labDir: string;
  hosts: TestHost[];
  /** Milliseconds startTestHosts took (all sshds accepting TCP). */
  startMs: number;
  /** The client key pair, for ssh -i / inventory identityFile. */
  identityFile: string;
  /** A known_hosts file holding knownHostsText(), kept up to date by the lab. */
  knownHostsFile: string;
  /** One OpenSSH known_hosts line per host, with knownHostKeyLine. */
  knownHostsText(): string;
  /** Writes an omstack.yaml inventory of all hosts (0600). */
  writeInventory(path: string): Promise<void>;
  /** argv (without "ssh") for the real OpenSSH client: the lab's key, strict checking against knownHostsFile (or opts.knownHostsFile), batch mode. */
  sshArgs(name: string, extra?: string[], opts?: { knownHostsFile?: string }): string[];
  host(name: string): TestHost;
  /** Restarts one host's sshd with a fresh host key; knownHostKeyLine keeps the old key. */
  rotateHostKey(name: string): Promise<TestHost>;
  /** Kills the sshds (PID verified), deletes the netns, links, bridge, lock and labDir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Parent folder for the lab's folder; must exist and not be on overlayfs. */
  runDir: string;
  /** Third octet of 198.18.X.0/24; chosen automatically (first free) when absent. */
  subnetIndex?: number;
  /** Leave the hosts running when this process exits (the CLI). Default false: an exit hook stops them. */
  keepAfterExit?: boolean;
  /** Milliseconds to wait for every sshd to accept TCP (default 30 000). */
  readyTimeoutMs?: number;
}
