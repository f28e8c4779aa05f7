// In-memory hosts for executor and step tests: files in a Map, every write operation recorded, commands answered by a handler.
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { CommandError, OmstackError } from "../../errors.js";
import type { CommandResult, ReadCtx, WriteCtx } from "../../steps/types.js";
import type { HostHandle, HostProvider, StepIo } from "../ports.js";

/** One recorded write: which host, which operation, on what. */
export interface RecordedWrite {
  host: string;
  op: "writeFile" | "pushFile" | "remove" | "run";
  target: string;
}

/** Answers a command run on a memory host; return undefined for "exit 0, no output". */
export type CommandHandler = (host: string, command: string, files: Map<string, MemFile>) => Partial<CommandResult> | undefined;

/** A file on a memory host. */
export interface MemFile {
  content: Buffer;
  mode: number;
  writable?: boolean;
}

/** Hosts that live in memory: a recording fake of the executor's HostProvider port. */
export class MemoryHosts implements HostProvider {
  readonly files = new Map<string, Map<string, MemFile>>();
  readonly writes: RecordedWrite[] = [];
  /** How often a writer context was handed out per host (a dry-run must leave this at zero). */
  readonly writerRequests = new Map<string, number>();
  readonly opened: string[] = [];
  /** Read-only commands asked through ReadCtx.query, per host, in order (answered by commandHandler too). */
  readonly queries: { host: string; command: string }[] = [];
  readonly unreachable = new Set<string>();
  commandHandler: CommandHandler = () => undefined;
  commands = new Set<string>(["sh", "cat", "base64", "sha256sum", "sysctl", "swapoff", "modprobe"]);

  constructor(hosts: string[]) {
    for (const h of hosts) this.files.set(h, new Map());
  }

  /** The file map of one host (created on first use). */
  fs(host: string): Map<string, MemFile> {
    let m = this.files.get(host);
    if (!m) this.files.set(host, (m = new Map()));
    return m;
  }

  text(host: string, path: string): string | null {
    return this.fs(host).get(path)?.content.toString("utf8") ?? null;
  }

  put(host: string, path: string, content: string, opts: { mode?: number; writable?: boolean } = {}): void {
    this.fs(host).set(path, { content: Buffer.from(content), mode: opts.mode ?? 0o644, writable: opts.writable ?? true });
  }

  async open(host: string): Promise<HostHandle> {
    if (this.unreachable.has(host)) {
      throw new OmstackError("E_SSH_CONNECT", `${host}: 198.51.100.1 is unreachable (EHOSTUNREACH)`, { host, remedy: "check the address" });
    }
    this.opened.push(host);
    return {
      reader: (io) => this.reader(host, io),
      writer: (io) => {
        this.writerRequests.set(host, (this.writerRequests.get(host) ?? 0) + 1);
        return this.writer(host, io);
      },
      close: () => {},
    };
  }

  private reader(host: string, io: StepIo): ReadCtx {
    const fs = this.fs(host);
    const ctx: ReadCtx = {
      host,
      readFile: async (p) => fs.get(p)?.content ?? null,
      readText: async (p) => fs.get(p)?.content.toString("utf8") ?? null,
      sha256: async (p) => {
        const f = fs.get(p);
        return f ? createHash("sha256").update(f.content).digest("hex") : null;
      },
      stat: async (p) => {
        const f = fs.get(p);
        if (f) return { type: "file", mode: f.mode, size: f.content.length };
        const dir = p.endsWith("/") ? p : p + "/";
        return [...fs.keys()].some((k) => k.startsWith(dir)) ? { type: "directory", mode: 0o755, size: 0 } : null;
      },
      exists: async (p) => fs.has(p) || [...fs.keys()].some((k) => k.startsWith(p.endsWith("/") ? p : p + "/")),
      isWritable: async (p) => fs.get(p)?.writable ?? true,
      commandExists: async (name) => this.commands.has(name),
      query: async (command, opts = {}) => {
        this.queries.push({ host, command });
        io.log(`? ${command}`);
        const r = { stdout: "", stderr: "", exitCode: 0, ...(this.commandHandler(host, command, fs) ?? {}) };
        if (!(opts.okExitCodes ?? [0]).includes(r.exitCode)) {
          throw new CommandError("E_COMMAND_FAILED", `${host}: \`${command}\` exited with status ${r.exitCode}`, command, r.exitCode, r.stdout + r.stderr, { host });
        }
        return r;
      },
      note: (m) => {
        io.log(`note: ${m}`);
        io.note(m);
      },
    };
    return Object.freeze(ctx);
  }

  private writer(host: string, io: StepIo): WriteCtx {
    const fs = this.fs(host);
    const record = (op: RecordedWrite["op"], target: string) => {
      this.writes.push({ host, op, target });
      io.log(`$ ${op} ${target}`);
    };
    const ctx: WriteCtx = {
      ...this.reader(host, io),
      writeFile: async (p, content, opts = {}) => {
        record("writeFile", p);
        fs.set(p, { content: Buffer.from(content), mode: opts.mode ?? 0o644 });
      },
      pushFile: async (local, p, opts) => {
        record("pushFile", p);
        const content = await readFile(local);
        const got = createHash("sha256").update(content).digest("hex");
        if (got !== opts.sha256) throw new OmstackError("E_PUSH_CHECKSUM", `${host}: ${p} arrived with sha256 ${got}; ${opts.sha256} was sent`, { host });
        fs.set(p, { content, mode: opts.mode ?? 0o644 });
      },
      remove: async (p) => {
        record("remove", p);
        fs.delete(p);
      },
      run: async (command, opts = {}) => {
        // the recorded target keeps the real command (tests assert on it); the log shows it redacted, as a real host's does
        this.writes.push({ host, op: "run", target: command });
        io.log(`$ run ${(opts.redact ?? []).filter(Boolean).reduce((c, v) => c.split(v).join("<redacted>"), command)}`);
        const r = { stdout: "", stderr: "", exitCode: 0, ...(this.commandHandler(host, command, fs) ?? {}) };
        if (!(opts.okExitCodes ?? [0]).includes(r.exitCode)) {
          throw new CommandError("E_COMMAND_FAILED", `${host}: \`${command}\` exited with status ${r.exitCode}`, command, r.exitCode, r.stdout + r.stderr, { host });
        }
        return r;
      },
    };
    return Object.freeze(ctx);
  }
}
