// Pure helpers for building the small POSIX sh scripts the host contexts send: quoting and path checks.
import { OmstackError } from "../errors.js";

/** Single-quotes a word for sh, so no value can break out of its argument. */
export function shq(word: string): string {
  return "'" + word.replace(/'/g, `'\\''`) + "'";
}

/** Paths reach the host only absolute and free of control characters; anything else is a bug in a step's config. */
export function checkPath(path: string, host: string): string {
  if (!path.startsWith("/") || /[\0\n\r]/.test(path) || path.split("/").includes("..")) {
    throw new OmstackError("E_STEP_CONFIG", `${host}: a host path must be absolute, without "..", newlines or NUL; got ${JSON.stringify(path)}`, {
      host,
      remedy: "fix the path in the step's configuration",
    });
  }
  return path;
}

/** Parent directory of an absolute path ("/" for "/x"). */
export function parentDir(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Base64 of data in 76-character lines, for a here-document that `base64 -d` reads back byte for byte. */
export function base64Lines(data: Buffer): string {
  const b64 = data.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\n");
}

/** A command name `command -v` may look up: letters, digits and ._+- only. */
export function checkCommandName(name: string, host: string): string {
  if (!/^[A-Za-z0-9._+-]+$/.test(name)) {
    throw new OmstackError("E_STEP_CONFIG", `${host}: ${JSON.stringify(name)} is not a plain command name`, { host, remedy: "use a bare tool name such as modprobe" });
  }
  return name;
}
