// ClusterPort over the state database: what the installer (and later a refresher) last wrote about the cluster.
import type { HostFacts } from "../../probe/facts.js";
import type { StateDb } from "../db/open.js";
import type { ClusterPort, ClusterSnapshot, ServiceState } from "../ports.js";

/** Reads the cluster tables written by the install journal. */
export class StateDbCluster implements ClusterPort {
  constructor(private readonly db: StateDb) {}

  async snapshot(): Promise<ClusterSnapshot> {
    const db = this.db;
    const nodes = (db.prepare("SELECT name, roles, ready, kubelet_version FROM nodes ORDER BY name").all() as { name: string; roles: string; ready: number | null; kubelet_version: string | null }[]).map((r) => ({
      name: r.name,
      roles: JSON.parse(r.roles) as string[],
      ready: r.ready === null ? null : r.ready === 1,
      kubeletVersion: r.kubelet_version,
    }));
    const systemPods = (db.prepare("SELECT * FROM system_pods ORDER BY namespace, name").all() as { namespace: string; name: string; node: string | null; phase: string; ready: number; restarts: number }[]).map((r) => ({
      namespace: r.namespace,
      name: r.name,
      node: r.node,
      phase: r.phase,
      ready: r.ready === 1,
      restarts: r.restarts,
    }));
    const services = (db.prepare("SELECT * FROM services ORDER BY name").all() as { name: string; version: string | null; status: ServiceState["status"]; ui_path: string | null; checks: string }[]).map((r) => ({
      name: r.name,
      version: r.version,
      status: r.status,
      uiPath: r.ui_path,
      checks: JSON.parse(r.checks) as ServiceState["checks"],
    }));
    const certificates = (db.prepare("SELECT name, not_after FROM certificates ORDER BY not_after").all() as { name: string; not_after: string }[]).map((r) => ({ name: r.name, notAfter: r.not_after }));
    const etcd = (db.prepare("SELECT * FROM etcd_members ORDER BY name").all() as { name: string; healthy: number; db_size_bytes: number | null }[]).map((r) => ({ name: r.name, healthy: r.healthy === 1, dbSizeBytes: r.db_size_bytes }));
    const components = Object.fromEntries((db.prepare("SELECT name, version FROM components ORDER BY name").all() as { name: string; version: string }[]).map((r) => [r.name, r.version]));
    const facts = (db.prepare("SELECT facts FROM host_facts ORDER BY host").all() as { facts: string }[]).map((r) => JSON.parse(r.facts) as HostFacts);
    return { nodes, systemPods, services, certificates, etcd, components, facts };
  }
}

/** Writes a snapshot into the state tables (used by the installer hand-over and by tests). */
export function writeClusterSnapshot(db: StateDb, s: ClusterSnapshot, now: Date): void {
  const at = now.toISOString();
  db.transaction(() => {
    for (const t of ["nodes", "system_pods", "services", "certificates", "etcd_members", "components", "host_facts"]) db.prepare(`DELETE FROM ${t}`).run();
    const n = db.prepare("INSERT INTO nodes (name, roles, ready, kubelet_version, updated_at) VALUES (?, ?, ?, ?, ?)");
    for (const x of s.nodes) n.run(x.name, JSON.stringify(x.roles), x.ready === null ? null : x.ready ? 1 : 0, x.kubeletVersion, at);
    const p = db.prepare("INSERT INTO system_pods (namespace, name, node, phase, ready, restarts) VALUES (?, ?, ?, ?, ?, ?)");
    for (const x of s.systemPods) p.run(x.namespace, x.name, x.node, x.phase, x.ready ? 1 : 0, x.restarts);
    const sv = db.prepare("INSERT INTO services (name, version, status, ui_path, checks, updated_at) VALUES (?, ?, ?, ?, ?, ?)");
    for (const x of s.services) sv.run(x.name, x.version, x.status, x.uiPath, JSON.stringify(x.checks), at);
    const c = db.prepare("INSERT INTO certificates (name, not_after) VALUES (?, ?)");
    for (const x of s.certificates) c.run(x.name, x.notAfter);
    const e = db.prepare("INSERT INTO etcd_members (name, healthy, db_size_bytes, updated_at) VALUES (?, ?, ?, ?)");
    for (const x of s.etcd) e.run(x.name, x.healthy ? 1 : 0, x.dbSizeBytes, at);
    const v = db.prepare("INSERT INTO components (name, version, updated_at) VALUES (?, ?, ?)");
    for (const [k, ver] of Object.entries(s.components)) v.run(k, ver, at);
    const f = db.prepare("INSERT INTO host_facts (host, facts, probed_at) VALUES (?, ?, ?)");
    for (const x of s.facts) f.run(x.host, JSON.stringify(x), x.probedAt);
  })();
}
