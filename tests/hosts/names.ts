// Pure: every name and address a lab uses derives from its subnet index, so a crashed run's leftovers can be found again.

import { LabError } from "./machine.js";

/** RFC 2544 benchmark range; used only inside namespaces and on bridges the harness creates. */
export const SUBNET_BASE = "198.18";
/** First host address in each /24 (.1 is the bridge). */
export const FIRST_HOST_OCTET = 10;
export const MAX_HOSTS = 254 - FIRST_HOST_OCTET + 1;

/** Prefix of every netns, link, lock and folder of the lab on subnet index i. */
export function labPrefix(subnetIndex: number): string {
  assertSubnetIndex(subnetIndex);
  return `oml${subnetIndex}`;
}

export function assertSubnetIndex(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i > 255) {
    throw new LabError(`test hosts: subnetIndex must be an integer 0..255 (third octet of ${SUBNET_BASE}.X.0/24); found ${String(i)}`);
  }
}

/** Names of one host's kernel objects; interface names stay within the 15-character limit. */
export function hostNames(prefix: string, index: number): { netns: string; veth: string; sshdConfig: string } {
  return {
    netns: `${prefix}-h${index}`,
    veth: `${prefix}v${index}`,
    sshdConfig: `/etc/omstack-lab/${prefix}-h${index}.sshd_config`,
  };
}

export function bridgeName(prefix: string): string {
  return `${prefix}br`;
}

export function gatewayAddress(subnetIndex: number): string {
  return `${SUBNET_BASE}.${subnetIndex}.1`;
}

export function hostAddress(subnetIndex: number, index: number): string {
  if (index < 0 || index >= MAX_HOSTS) {
    throw new LabError(`test hosts: a lab holds at most ${MAX_HOSTS} hosts (one /24); host #${index + 1} asked for`);
  }
  return `${SUBNET_BASE}.${subnetIndex}.${FIRST_HOST_OCTET + index}`;
}

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** Rejects names that cannot be a hostname (RFC 1123 labels, at most 64 characters). */
export function assertHostName(name: string): void {
  if (name.length > 64 || !HOST_NAME.test(name)) {
    throw new LabError(
      `test hosts: host name ${JSON.stringify(name)} is not a valid hostname; use letters, digits, '-' and '.' (e.g. "gpu-01"), at most 64 characters`,
    );
  }
}

/** Rejects command names that could escape a path or a shell word. */
export function assertToolName(name: string, what: string): void {
  if (!TOOL_NAME.test(name)) {
    throw new LabError(`test hosts: ${what} ${JSON.stringify(name)} is not a plain command name (letters, digits, '.', '_', '+', '-')`);
  }
}
