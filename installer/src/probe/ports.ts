// What the probe needs from the outside world: a way to run one script on a host. Adapters implement it.

/** Output of one remote or local script run. */
export interface ScriptResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number | null;
  signal: string | null;
}

/** An open session to one host (SSH connection or the local machine). */
export interface HostSession {
  /** Runs `sh -s` (through sudo when configured) with `script` on stdin. */
  runScript(script: string, timeoutMs: number): Promise<ScriptResult>;
  close(): void;
}

/** Opens sessions; throws OmstackError (E_SSH_*) with the reason when a host cannot be reached. */
export interface HostConnector<T> {
  open(target: T): Promise<HostSession>;
}
