// The one error a verify throws: what the post-condition required, what the host shows, how to fix it.
import { OmstackError } from "../errors.js";

/** E_STEP_VERIFY for one host, with a remedy the operator can follow. */
export function verifyFailed(host: string, stepId: string, message: string, remedy: string): OmstackError {
  return new OmstackError("E_STEP_VERIFY", `${host}: ${stepId}: ${message}`, { host, remedy });
}
