// Path rules for bundle entries: one canonical spelling per file, so a listing can be compared byte for byte
// and nothing in an archive can name a place outside the folder it is extracted to.
import { posix } from "node:path";

/** Characters allowed in one path segment of a v1 bundle (printable ASCII, no separators, no shell surprises). */
const SEGMENT = /^[A-Za-z0-9._+@=:,~-]+$/;

/** Why a path is not a canonical relative bundle path, or null when it is. */
export function pathProblem(p: string): string | null {
  if (p.length === 0) return "the path is empty";
  if (p.includes("\0")) return "the path contains a NUL byte";
  if (p.startsWith("/")) return "the path is absolute";
  if (/^[A-Za-z]:/.test(p) || p.includes("\\")) return "the path uses a Windows drive or backslash";
  const segments = p.split("/");
  if (segments.some((s) => s === "..")) return "the path climbs out with '..'";
  if (segments.some((s) => s === "" || s === ".")) return "the path has an empty or '.' segment";
  if (!segments.every((s) => SEGMENT.test(s))) return "the path has characters outside [A-Za-z0-9._+@=:,~-]";
  if (Buffer.byteLength(p) > 4096) return "the path is longer than 4096 bytes";
  return null;
}

/** True when `p` is a canonical relative path (see pathProblem). */
export function isSafePath(p: string): boolean {
  return pathProblem(p) === null;
}

/** Where a relative symlink at `linkPath` points, relative to the bundle root; null when it leaves the root or is absolute. */
export function resolveLinkTarget(linkPath: string, target: string): string | null {
  if (target.length === 0 || target.startsWith("/") || target.includes("\0") || target.includes("\\")) return null;
  const joined = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (joined === ".." || joined.startsWith("../") || joined.startsWith("/") || joined === ".") return null;
  return joined;
}

/** Bytewise order of UTF-8 paths: the order entries appear in a bundle and in bundle.json. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
