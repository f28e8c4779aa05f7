// What a device check found wrong, and the one error that reports every problem of a host together.
import { OmstackError, type ErrorCode } from "../../errors.js";

/** One failed condition: its code (docs/errors.md), what was required and found, and the fix. */
export interface DeviceProblem {
  code: ErrorCode;
  message: string;
  remedy: string;
}

/** The first problem's code; the message and remedy name every problem, so none hides behind the first. */
export function problemsError(host: string, problems: readonly DeviceProblem[]): OmstackError {
  const first = problems[0]!;
  if (problems.length === 1) return new OmstackError(first.code, first.message, { host, remedy: first.remedy });
  return new OmstackError(first.code, `${host}: ${problems.length} problems: ${problems.map((p) => p.message.replace(`${host}: `, "")).join(" | ")}`, {
    host,
    remedy: problems.map((p) => p.remedy).join("; also: "),
  });
}
