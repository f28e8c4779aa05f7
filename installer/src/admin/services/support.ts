// Builds the support bundle: the journal, HostFacts and cluster state from the state DB, plus what the hosts report.
import { OmstackError } from "../../errors.js";
import type { ClusterPort, SupportPort } from "../ports.js";
import type { RunStore } from "../store/runs.js";
import { tarGz, type TarFile } from "./tar-writer.js";

/** Gathers everything support needs into one .tar.gz (returned in memory; bundles are a few MB). */
export async function buildSupportBundle(cluster: ClusterPort, runs: RunStore, hosts: SupportPort | null, now: Date): Promise<{ fileName: string; data: Buffer; files: string[] }> {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const root = `omstack-support-${stamp}`;
  const files: TarFile[] = [];
  const add = (path: string, content: string | Buffer) => files.push({ path: `${root}/${path}`, content, mtime: now });
  const snapshot = await cluster.snapshot();
  const history = runs.list(50).map((r) => runs.get(r.id));
  add("journal/runs.json", JSON.stringify(history, null, 2));
  for (const f of snapshot.facts) add(`hostfacts/${safeName(f.host)}.json`, JSON.stringify(f, null, 2));
  add("cluster/state.json", JSON.stringify({ ...snapshot, facts: undefined }, null, 2));
  const notes: string[] = [`generated ${now.toISOString()}`];
  if (hosts) {
    try {
      for (const f of await hosts.gather()) add(f.path.split("/").map(safeName).join("/"), f.content);
    } catch (e) {
      // The bundle is still useful without the host part; say what failed inside it.
      notes.push(`gathering from the hosts failed: ${(e as Error).message}`);
    }
  } else {
    notes.push("no host gatherer is connected: host diagnostics (nvidia-smi -q, ibstat, ibv_devinfo, service logs) are not included");
  }
  add("README.txt", notes.join("\n") + "\n");
  try {
    return { fileName: `${root}.tar.gz`, data: tarGz(files), files: files.map((f) => f.path) };
  } catch (e) {
    throw new OmstackError("E_ADMIN_SUPPORT_FAILED", `the support bundle could not be packed: ${(e as Error).message}`, { remedy: "retry; if it fails again, report it with the admin service log" });
  }
}

/** Keeps a path part to safe characters so no host name can escape the archive root. */
function safeName(part: string): string {
  const s = part.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return s || "_";
}
