// Pure readers of helm's JSON output (`get metadata -o json`, `list -o json`), checked against captures of helm 4.1.4
// in fixtures/. Anything else is E_HELM_OUTPUT naming the command, never a crash.
import { OmstackError } from "../../errors.js";
import type { HelmListEntry, HelmReleaseInfo } from "../../steps/services/ports.js";

function bad(command: string, detail: string): OmstackError {
  return new OmstackError("E_HELM_OUTPUT", `\`${command}\` printed something omstack cannot read: ${detail}`, {
    remedy: "run the command by hand with the saved kubeconfig; the bundle's bin/helm must be the helm 4 omstack was built with",
  });
}

function json(text: string, command: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw bad(command, `not JSON (${(e as Error).message})`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads `helm get metadata NAME -n NS -o json`. */
export function parseReleaseMetadata(text: string, command: string): HelmReleaseInfo {
  const d = json(text, command);
  if (!isObj(d)) throw bad(command, "expected a JSON object");
  const s = (k: string) => {
    const v = d[k];
    if (typeof v !== "string" || v === "") throw bad(command, `"${k}" must be a non-empty string`);
    return v;
  };
  const revision = d.revision;
  if (typeof revision !== "number" || !Number.isSafeInteger(revision)) throw bad(command, `"revision" must be an integer`);
  const labels: Record<string, string> = {};
  if (d.labels !== undefined && d.labels !== null) {
    if (!isObj(d.labels)) throw bad(command, `"labels" must be an object`);
    for (const [k, v] of Object.entries(d.labels)) labels[k] = String(v);
  }
  return { name: s("name"), namespace: s("namespace"), chart: s("chart"), version: s("version"), revision, status: s("status"), labels };
}

/** Reads `helm list -o json` (revision is a string there, a number in get metadata). */
export function parseReleaseList(text: string, command: string): HelmListEntry[] {
  const d = json(text, command);
  if (!Array.isArray(d)) throw bad(command, "expected a JSON array");
  return d.map((raw, i) => {
    if (!isObj(raw)) throw bad(command, `entry ${i} is not an object`);
    const s = (k: string) => {
      const v = raw[k];
      if (typeof v !== "string" || v === "") throw bad(command, `entry ${i}: "${k}" must be a non-empty string`);
      return v;
    };
    const revision = Number(raw.revision);
    if (!Number.isSafeInteger(revision)) throw bad(command, `entry ${i}: "revision" must be an integer`);
    return { name: s("name"), namespace: s("namespace"), revision, status: s("status"), chart: s("chart") };
  });
}

/** True when helm's stderr says the release does not exist (get/status/uninstall of an unknown name). */
export function isReleaseNotFound(stderr: string): boolean {
  return /release: not found/.test(stderr);
}
