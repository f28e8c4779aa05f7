// Asks for secrets at run time (masked on a TTY, or one line from --password-stdin); nothing is stored or logged.
import { createInterface } from "node:readline";
import { OmstackError } from "../../errors.js";
import type { Secrets } from "../../adapters/ssh/client.js";

/** Reads a line without echo; the prompt goes to stderr. */
export function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!process.stdin.isTTY) {
      reject(new OmstackError("E_USAGE", "a password is needed but there is no terminal to ask on", { remedy: "run in a terminal, pass it with --password-stdin, or use key/agent authentication" }));
      return;
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const rlAny = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    let asked = false;
    rlAny._writeToOutput = (s: string) => {
      if (!asked) {
        process.stderr.write(s);
        asked = true;
      }
    };
    rl.question(question, (answer) => {
      process.stderr.write("\n");
      rl.close();
      resolve(answer);
    });
    rl.on("SIGINT", () => {
      rl.close();
      reject(new OmstackError("E_USAGE", "cancelled", { remedy: "run the command again" }));
    });
  });
}

/** Reads the whole of stdin once (for --password-stdin); trailing newline removed. */
export async function readStdinSecret(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

/** Secrets for one run: asked once per distinct target and kept only in memory. */
export function runtimeSecrets(fromStdin: string | null): Secrets {
  const cache = new Map<string, Promise<string>>();
  const once = (key: string, ask: () => Promise<string>) => {
    if (!cache.has(key)) cache.set(key, ask());
    return cache.get(key)!;
  };
  // Prompts are serialised so that parallel hosts never ask at the same time.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = (q: string) => {
    const p = chain.then(() => askHidden(q));
    chain = p.catch(() => undefined);
    return p;
  };
  return {
    sshPassword: (user, address) => (fromStdin !== null ? Promise.resolve(fromStdin) : once(`ssh:${user}`, () => serial(`SSH password for ${user} (used for every host with password: ask, user ${user}): `))),
    keyPassphrase: (path) => (fromStdin !== null ? Promise.resolve(fromStdin) : once(`key:${path}`, () => serial(`Passphrase for ${path}: `))),
    sudoPassword: (host) => (fromStdin !== null ? Promise.resolve(fromStdin) : once("sudo", () => serial(`sudo password (asked once, used for ${host} and other hosts with sudo: {password: ask}): `))),
  };
}

/** Asks a yes/no question on the terminal; false without a TTY. */
export function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return Promise.resolve(false);
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(`${question} [y/N] `, (a) => {
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    });
  });
}
