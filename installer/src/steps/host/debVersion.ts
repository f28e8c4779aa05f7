// Debian version strings compared exactly as dpkg does (deb-version(7)), so host.packages can decide "older than the
// bundle's" on this machine without asking the host; debVersion.test.ts checks it against the real `dpkg --compare-versions`.

/** A Debian version split into its three parts; a missing epoch is 0 and a missing revision is "". */
export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const EPOCH = /^[0-9]+$/;
const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

/** Splits `[epoch:]upstream[-revision]`; null when the string is not a Debian version (dpkg would refuse it too). */
export function parseDebVersion(text: string): DebVersion | null {
  const v = text.trim();
  if (v === "" || /\s/.test(v)) return null;
  const colon = v.indexOf(":");
  let epoch = 0;
  let rest = v;
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!EPOCH.test(e)) return null;
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : "";
  if (!UPSTREAM.test(upstream) || (dash >= 0 && !REVISION.test(revision))) return null;
  if (colon < 0 && upstream.includes(":")) return null;
  return { epoch, upstream, revision };
}

const isDigit = (c: string) => c >= "0" && c <= "9";
const isAlpha = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");

/** dpkg's character weight: "~" sorts before everything (even the end), letters before other symbols. */
function order(c: string): number {
  if (c === "") return 0;
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === "~") return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating non-digit and digit runs, compared left to right. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const ac = order(a[i] ?? "");
      const bc = order(b[j] ?? "");
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    while (i < a.length && j < b.length && isDigit(a[i]!) && isDigit(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i]!)) return 1;
    if (j < b.length && isDigit(b[j]!)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Negative, zero or positive as a sorts before, equal to, or after b (dpkg --compare-versions a lt|eq|gt b). */
export function compareDebVersions(a: DebVersion, b: DebVersion): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const u = verrevcmp(a.upstream, b.upstream);
  if (u !== 0) return u;
  return verrevcmp(a.revision, b.revision);
}
