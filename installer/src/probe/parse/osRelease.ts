// /etc/os-release → OsFacts; the id is kept verbatim ("openEuler"), because the OS modules match on it.
import type { OsFacts } from "../facts.js";
import { lines, safely, type Parsed } from "./util.js";

/** Parses os-release KEY=value lines (quoted or not); null when no ID is present. */
export function parseOsRelease(text: string): Parsed<OsFacts | null> {
  return safely("os-release", null, (sink) => {
    const kv = new Map<string, string>();
    for (const line of lines(text)) {
      const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (!m || m[1] === undefined || m[2] === undefined) continue;
      kv.set(m[1], unquote(m[2]));
    }
    const id = kv.get("ID");
    if (id === undefined || id === "") {
      sink.add("no ID= line found; the operating system is unknown");
      return null;
    }
    const idLike = (kv.get("ID_LIKE") ?? "").split(/\s+/).filter((s) => s !== "");
    return {
      id,
      versionId: kv.get("VERSION_ID") || null,
      prettyName: kv.get("PRETTY_NAME") || null,
      idLike,
    };
  });
}

function unquote(v: string): string {
  const q = v[0];
  if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
    return v.slice(1, -1).replace(/\\(["'$`\\])/g, "$1");
  }
  return v;
}
