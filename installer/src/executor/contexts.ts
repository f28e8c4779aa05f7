// ReadCtx and WriteCtx over a HostSession: each operation is one small sh script, logged with its exit status.
import { createReadStream } from "node:fs";
import { open as openFile, stat as statLocal } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { CommandError, OmstackError, isOmstackError, tail } from "../errors.js";
import type { HostSession, ScriptResult } from "../probe/ports.js";
import type { CommandResult, FileStat, ReadCtx, WriteCtx } from "../steps/types.js";
import { isStreaming, type HostHandle, type HostProvider, type StepIo } from "./ports.js";
import { base64Lines, checkCommandName, checkPath, parentDir, shq } from "../steps/shell.js";

/** Timeouts for the context's own small operations and for step commands (run) when the step names none. */
export interface ContextTimeouts {
  opMs: number;
  runMs: number;
  pushMs: number;
}

const DEFAULT_TIMEOUTS: ContextTimeouts = { opMs: 60_000, runMs: 10 * 60_000, pushMs: 60 * 60_000 };

/** Exit status the read scripts use for "no such path", distinct from a failing tool. */
const ABSENT = 3;
/** Chunk size for pushing a file through scripts when the session cannot stream stdin. */
const SCRIPT_CHUNK = 4 * 1024 * 1024;

/** Builds host handles from sessions opened by `openSession` (an SshConnector, the local session, a test fake). */
export function sessionHosts(openSession: (host: string) => Promise<HostSession>, timeouts: Partial<ContextTimeouts> = {}): HostProvider {
  const t = { ...DEFAULT_TIMEOUTS, ...timeouts };
  return {
    async open(host) {
      const session = await openSession(host);
      return sessionHandle(host, session, t);
    },
  };
}

/** A handle for one host over one open session. */
export function sessionHandle(host: string, session: HostSession, timeouts: ContextTimeouts = DEFAULT_TIMEOUTS): HostHandle {
  return {
    reader: (io) => readCtx(host, session, io, timeouts),
    writer: (io) => writeCtx(host, session, io, timeouts),
    close: () => session.close(),
  };
}

async function script(host: string, session: HostSession, io: StepIo, what: string, text: string, timeoutMs: number): Promise<ScriptResult> {
  io.log(`$ ${what}`);
  let r: ScriptResult;
  try {
    r = await session.runScript(text, timeoutMs);
  } catch (e) {
    io.log(`! ${what}: ${(e as Error).message}`);
    if (e instanceof CommandError && e.code === "E_COMMAND_TIMEOUT") {
      throw new CommandError("E_COMMAND_TIMEOUT", `${host}: \`${what}\` did not finish within ${Math.round(timeoutMs / 1000)} s`, what, null, e.outputTail, {
        host,
        remedy: "the command hangs on the host; see the log for its output, fix the cause, then run the install again",
      });
    }
    if (isOmstackError(e)) throw e;
    throw new OmstackError("E_SSH_CONNECT", `${host}: lost the connection to the host while running \`${what}\` (${(e as Error).message})`, {
      host,
      cause: e,
      remedy: `check that ${host} is up and reachable over SSH, then run the same install again: it resumes where it stopped`,
    });
  }
  io.log(`  exit ${r.exitCode ?? "none"}${r.signal ? ` (signal ${r.signal})` : ""}`);
  return r;
}

function failed(host: string, what: string, r: ScriptResult, remedy?: string): CommandError {
  const output = r.stdout.toString("utf8") + r.stderr.toString("utf8");
  return new CommandError("E_COMMAND_FAILED", `${host}: \`${what}\` exited with status ${r.exitCode ?? "none"}`, what, r.exitCode, output, {
    host,
    remedy: remedy ?? "read the command's output above and the log; fix the cause on the host, then run the install again",
  });
}

function readCtx(host: string, session: HostSession, io: StepIo, t: ContextTimeouts): ReadCtx {
  const sh = (what: string, text: string) => script(host, session, io, what, text, t.opMs);
  const ctx: ReadCtx = {
    host,
    async readFile(path) {
      const p = shq(checkPath(path, host));
      const r = await sh(`read ${path}`, `[ -e ${p} ] || exit ${ABSENT}\nbase64 < ${p}\n`);
      if (r.exitCode === ABSENT) return null;
      if (r.exitCode !== 0) throw failed(host, `read ${path}`, r);
      return Buffer.from(r.stdout.toString("ascii"), "base64");
    },
    async readText(path) {
      const b = await ctx.readFile(path);
      return b === null ? null : b.toString("utf8");
    },
    async sha256(path) {
      const p = shq(checkPath(path, host));
      const r = await sh(`sha256sum ${path}`, `[ -e ${p} ] || exit ${ABSENT}\nsha256sum < ${p}\n`);
      if (r.exitCode === ABSENT) return null;
      const hex = /^([0-9a-f]{64})\b/.exec(r.stdout.toString("ascii"))?.[1];
      if (r.exitCode !== 0 || !hex) throw failed(host, `sha256sum ${path}`, r);
      return hex;
    },
    async stat(path) {
      const p = shq(checkPath(path, host));
      const r = await sh(`stat ${path}`, `[ -e ${p} ] || exit ${ABSENT}\nstat -L -c '%F|%a|%s' ${p}\n`);
      if (r.exitCode === ABSENT) return null;
      const m = /^([^|]+)\|([0-7]+)\|(\d+)/.exec(r.stdout.toString("utf8"));
      if (r.exitCode !== 0 || !m) throw failed(host, `stat ${path}`, r);
      const kind = m[1]!;
      const type: FileStat["type"] = kind.startsWith("regular") ? "file" : kind === "directory" ? "directory" : kind === "symbolic link" ? "symlink" : "other";
      return { type, mode: parseInt(m[2]!, 8), size: Number(m[3]) };
    },
    async exists(path) {
      const r = await sh(`test -e ${path}`, `[ -e ${shq(checkPath(path, host))} ]\n`);
      return r.exitCode === 0;
    },
    async isWritable(path) {
      const r = await sh(`test -w ${path}`, `[ -w ${shq(checkPath(path, host))} ]\n`);
      return r.exitCode === 0;
    },
    async commandExists(name) {
      const r = await sh(`command -v ${name}`, `command -v ${checkCommandName(name, host)} >/dev/null 2>&1\n`);
      return r.exitCode === 0;
    },
    async query(command, opts = {}) {
      const r = await script(host, session, io, command, command + "\n", opts.timeoutMs ?? t.opMs);
      const out: CommandResult = { stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8"), exitCode: r.exitCode ?? -1 };
      if (r.exitCode === null || !(opts.okExitCodes ?? [0]).includes(r.exitCode)) throw failed(host, command, r);
      return out;
    },
    note(message) {
      io.log(`note: ${message}`);
      io.note(message);
    },
  };
  return Object.freeze(ctx);
}

function writeCtx(host: string, session: HostSession, io: StepIo, t: ContextTimeouts): WriteCtx {
  const read = readCtx(host, session, io, t);
  const sh = (what: string, text: string, timeoutMs = t.opMs) => script(host, session, io, what, text, timeoutMs);

  async function finishUpload(tmp: string, dest: string, sha256: string, mode: number): Promise<void> {
    const got = await read.sha256(tmp);
    if (got !== sha256) {
      await sh(`rm -f ${tmp}`, `rm -f ${shq(tmp)}\n`);
      throw new OmstackError("E_PUSH_CHECKSUM", `${host}: ${dest} arrived with sha256 ${got ?? "(missing)"}; ${sha256} was sent`, {
        host,
        remedy: "the copy was damaged on the way or the host's disk is full or failing; check `df` and dmesg on the host, then run the install again",
      });
    }
    const r = await sh(`install ${dest}`, `set -e\nchmod ${mode.toString(8)} ${shq(tmp)}\nmv -f ${shq(tmp)} ${shq(dest)}\n`);
    if (r.exitCode !== 0) throw failed(host, `install ${dest}`, r);
  }

  const ctx: WriteCtx = {
    ...read,
    async writeFile(path, content, opts = {}) {
      const dest = checkPath(path, host);
      const mode = opts.mode ?? 0o644;
      const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
      // a name of its own: a write of a killed run may still be running on the host, and its EXIT trap removes its temp file
      const tmp = `${dest}.omstack-tmp.${randomBytes(6).toString("hex")}`;
      const text = [
        "set -e",
        "umask 077",
        `mkdir -p ${shq(parentDir(dest))}`,
        `trap 'rm -f ${shq(tmp).replace(/'/g, `'\\''`)}' EXIT`,
        `base64 -d > ${shq(tmp)} <<'OMSTACK_EOF'`,
        base64Lines(data),
        "OMSTACK_EOF",
        `chmod ${mode.toString(8)} ${shq(tmp)}`,
        `mv -f ${shq(tmp)} ${shq(dest)}`,
        "",
      ].join("\n");
      const r = await sh(`write ${dest} (${data.length} bytes, mode ${mode.toString(8)})`, text);
      if (r.exitCode !== 0) throw failed(host, `write ${dest}`, r, "check that the host's filesystem is writable and not full (df, mount)");
    },
    async pushFile(localPath, remotePath, opts) {
      const dest = checkPath(remotePath, host);
      const mode = opts.mode ?? 0o644;
      const tmp = `${dest}.omstack-tmp.${randomBytes(6).toString("hex")}`;
      let size: number;
      let localSum: string;
      try {
        size = (await statLocal(localPath)).size;
        localSum = await sha256Local(localPath);
      } catch (e) {
        throw new OmstackError("E_STEP_SOURCE", `${host}: the file to push, ${localPath}, cannot be read: ${(e as Error).message}`, { host, remedy: "check that the bundle is extracted completely (omstack bundle verify) and readable by this user", cause: e });
      }
      if (localSum !== opts.sha256) {
        throw new OmstackError("E_STEP_SOURCE", `${host}: ${localPath} has sha256 ${localSum}; the install expects ${opts.sha256}`, { host, remedy: "the local copy is damaged or from another bundle; extract the bundle again and verify it (omstack bundle verify)" });
      }
      const prep = await sh(`mkdir -p ${parentDir(dest)}`, `set -e\nmkdir -p ${shq(parentDir(dest))}\nrm -f ${shq(`${dest}.omstack-tmp`)} ${shq(dest)}.omstack-tmp.*\n`);
      if (prep.exitCode !== 0) throw failed(host, `mkdir -p ${parentDir(dest)}`, prep);
      if (isStreaming(session)) {
        io.log(`$ push ${localPath} -> ${dest} (${size} bytes, streamed)`);
        const r = await session.exec(`umask 077; cat > ${shq(tmp)}`, { stdin: createReadStream(localPath), timeoutMs: t.pushMs });
        io.log(`  exit ${r.exitCode ?? "none"}`);
        if (r.exitCode !== 0) throw failed(host, `push ${dest}`, r, "check that the host's filesystem is writable and has room (df)");
      } else {
        const fh = await openFile(localPath, "r");
        try {
          const buf = Buffer.alloc(SCRIPT_CHUNK);
          let offset = 0;
          do {
            const { bytesRead } = await fh.read(buf, 0, SCRIPT_CHUNK, offset);
            const redirect = offset === 0 ? ">" : ">>";
            const r = await sh(
              `push ${localPath} -> ${dest} (bytes ${offset}..${offset + bytesRead} of ${size})`,
              `set -e\numask 077\nbase64 -d ${redirect} ${shq(tmp)} <<'OMSTACK_EOF'\n${base64Lines(buf.subarray(0, bytesRead))}\nOMSTACK_EOF\n`,
              t.pushMs,
            );
            if (r.exitCode !== 0) throw failed(host, `push ${dest}`, r, "check that the host's filesystem is writable and has room (df)");
            offset += bytesRead;
          } while (offset < size);
        } finally {
          await fh.close();
        }
      }
      await finishUpload(tmp, dest, opts.sha256, mode);
    },
    async remove(path) {
      const p = checkPath(path, host);
      const r = await sh(`rm -f ${p}`, `rm -f ${shq(p)}\n`);
      if (r.exitCode !== 0) throw failed(host, `rm -f ${p}`, r);
    },
    async run(command, opts = {}) {
      // what the log and errors show: the command with each redacted value (a key on the command line) masked
      const shown = (opts.redact ?? []).filter((v) => v.length > 0).reduce((c, v) => c.split(v).join("<redacted>"), command);
      const r = await sh(shown, command + "\n", opts.timeoutMs ?? t.runMs);
      const out: CommandResult = { stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8"), exitCode: r.exitCode ?? -1 };
      const ok = r.exitCode !== null && (opts.okExitCodes ?? [0]).includes(r.exitCode);
      if (opts.secret) {
        io.log("  (output withheld: it holds a credential)");
        if (!ok) throw failed(host, shown, { ...r, stdout: Buffer.alloc(0), stderr: Buffer.from("(output withheld: it may hold a credential; run the command on the host to see it)") });
        return out;
      }
      const tailText = tail(out.stdout + out.stderr, 20);
      if (tailText) io.log("  " + tailText.replace(/\n/g, "\n  "));
      if (!ok) throw failed(host, shown, r);
      return out;
    },
  };
  return Object.freeze(ctx);
}

/** sha256 of a local file, streamed (bundle parts can be large). */
export async function sha256Local(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}
