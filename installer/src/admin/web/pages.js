// The console's pages: overview, nodes, services, upgrades, audit log, users. Each renders into `content`.
import { h, clear, api, light, bytes, when, panel, table, errorBox } from "./core.js";

const count = (items, pred) => items.filter(pred).length;

async function overview(content) {
  const r = await api("GET", "/api/v1/health");
  const ready = count(r.nodes, (n) => n.ready === true);
  const healthy = count(r.services, (s) => s.light === "green");
  const soonest = r.certificates.reduce((a, c) => (a === null || c.daysLeft < a.daysLeft ? c : a), null);
  const usedPct = r.stateDir.totalBytes ? Math.round(100 * (1 - r.stateDir.freeBytes / r.stateDir.totalBytes)) : null;
  content.append(
    h("div", { class: "cards", id: "overview-cards" },
      h("div", { class: "card" }, h("h3", {}, "Cluster"), h("div", { class: "big" }, light(r.light)), h("div", { class: "sub" }, `Platform ${r.versions.platform || "not installed"}`)),
      h("div", { class: "card" }, h("h3", {}, "Nodes ready"), h("div", { class: "big" }, `${ready} / ${r.nodes.length}`), h("div", { class: "sub" }, `${r.systemPods.ready} of ${r.systemPods.total} system pods ready`)),
      h("div", { class: "card" }, h("h3", {}, "Services healthy"), h("div", { class: "big" }, `${healthy} / ${r.services.length}`), h("div", { class: "sub" }, r.services.length - healthy ? `${r.services.length - healthy} need attention` : "All services healthy")),
      h("div", { class: "card" }, h("h3", {}, "Next certificate expiry"), h("div", { class: "big" }, soonest ? `${soonest.daysLeft} days` : "—"), h("div", { class: "sub" }, soonest ? soonest.name : "No certificates recorded")),
      h("div", { class: "card" }, h("h3", {}, "etcd"), h("div", { class: "big" }, light(r.etcd.light)), h("div", { class: "sub" }, `${r.etcd.members.length} member(s), database ${bytes(r.etcd.dbSizeBytes)}`)),
      h("div", { class: "card" }, h("h3", {}, "Admin state"), h("div", { class: "big" }, usedPct === null ? "—" : `${usedPct}%`), h("div", { class: "sub" }, `disk used · database ${bytes(r.stateDir.dbBytes)}`))),
    panel("Nodes", null, table(["Node", "Status", "Roles", "GPUs", "RDMA"], r.nodes.map((n) => h("tr", {},
      h("td", {}, h("b", {}, n.name)), h("td", {}, light(n.light), n.reasons.length ? h("div", { class: "muted" }, n.reasons.join("; ")) : null),
      h("td", {}, n.roles.map((x) => h("span", { class: "tag" }, x))),
      h("td", {}, n.gpus.length ? n.gpus.map((g) => `${g.model} × ${g.count}`).join(", ") : h("span", { class: "muted" }, "none")),
      h("td", {}, n.rdma.ports ? `${n.rdma.active} of ${n.rdma.ports} active` : h("span", { class: "muted" }, "none")))), "No nodes recorded yet: the install journal fills this in.")),
    panel("Services", null, table(["Service", "Status", "Version"], r.services.map((s) => h("tr", {}, h("td", {}, h("b", {}, s.name)), h("td", {}, light(s.light)), h("td", { class: "mono" }, s.version || "—"))))),
    panel("Certificates", null, table(["Certificate", "Expires", "#Days left", "Status"], r.certificates.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, when(c.notAfter)), h("td", { class: "num" }, c.daysLeft), h("td", {}, light(c.light, c.light === "green" ? "Valid" : c.light === "amber" ? "Renew soon" : "Renew now"))))))
  );
}

async function nodes(content) {
  const { items } = await api("GET", "/api/v1/nodes");
  content.append(panel("Nodes", null, table(["Node", "Status", "GPUs", "Driver", "RDMA ports", "Disks", "System"], items.map((n) => h("tr", {},
    h("td", {}, h("b", {}, n.name), h("div", {}, n.roles.map((x) => h("span", { class: "tag" }, x)))),
    h("td", {}, light(n.light, n.ready ? "Ready" : n.ready === false ? "NotReady" : "Unknown")),
    h("td", {}, n.gpus.length ? n.gpus.map((g) => h("div", {}, `${g.model} × ${g.count}`)) : h("span", { class: "muted" }, "none")),
    h("td", { class: "mono" }, n.gpuDriver || "—"),
    h("td", {}, n.rdma.devices.length ? n.rdma.devices.map((p) => h("div", {}, h("span", { class: "mono" }, `${p.device}/${p.port}`), " ", light(p.state === "ACTIVE" ? "green" : "amber", p.state || "unknown"), p.rateGbps ? ` ${p.rateGbps} Gb/s` : "", p.linkLayer ? h("span", { class: "muted" }, ` ${p.linkLayer}`) : null)) : h("span", { class: "muted" }, "none")),
    h("td", {}, n.disks.length ? n.disks.map((d) => h("div", {}, h("span", { class: "mono" }, d.name), ` ${bytes(d.sizeBytes)} `, h("span", { class: "muted" }, d.model || ""))) : h("span", { class: "muted" }, "—")),
    h("td", {}, n.os || "—", h("div", { class: "muted mono" }, n.kubeletVersion || "")))), "No nodes recorded yet.")));
}

async function services(content) {
  const { items } = await api("GET", "/api/v1/services");
  content.append(panel("Services", null, table(["Service", "Status", "Version", "Health checks", "Console"], items.map((s) => h("tr", {},
    h("td", {}, h("b", {}, s.name)), h("td", {}, light(s.light, s.status[0].toUpperCase() + s.status.slice(1))), h("td", { class: "mono" }, s.version || "—"),
    h("td", {}, s.checks.map((c) => h("div", {}, light(c.ok ? "green" : "red", c.ok ? "OK" : "Failing"), ` ${c.name} `, h("span", { class: "muted" }, c.detail)))),
    h("td", {}, s.uiUrl ? h("a", { href: s.uiUrl, target: "_blank", rel: "noopener" }, "Open ↗") : h("span", { class: "muted" }, "—")))))));
}

async function upgrades(content, user) {
  const canRun = user.role !== "viewer";
  const [{ items: bundles }, { items: runs }, versions, current] = await Promise.all([api("GET", "/api/v1/bundles"), api("GET", "/api/v1/history"), api("GET", "/api/v1/versions"), api("GET", "/api/v1/upgrades/current")]);
  const status = h("div");
  const detail = h("div", { id: "bundle-detail" });
  const progress = h("div", { id: "upgrade-progress" });
  let source = null;

  const upload = h("input", { type: "file", id: "bundle-file", accept: ".tar.gz,.tgz" });
  const uploadBtn = h("button", { id: "bundle-upload", disabled: !canRun }, "Upload");
  uploadBtn.addEventListener("click", async () => {
    clear(status);
    const f = upload.files[0];
    if (!f) return status.append(h("div", { class: "notice info" }, "Choose a bundle file first."));
    try {
      const b = await api("POST", `/api/v1/bundles/upload?name=${encodeURIComponent(f.name)}`, f, { raw: true });
      status.append(h("div", { class: "notice ok" }, `Bundle ${b.name} ${b.version} verified and added.`));
      setTimeout(() => window.dispatchEvent(new HashChangeEvent("hashchange")), 600);
    } catch (e) { status.append(errorBox(e)); }
  });

  const showBundle = async (b) => {
    clear(detail);
    const diff = await api("GET", `/api/v1/bundles/${b.id}/diff`);
    const preBtn = h("button", { class: "secondary", id: "run-preflight", disabled: !canRun }, "Run preflight");
    const startBtn = h("button", { id: "start-upgrade", disabled: !canRun }, `Upgrade to ${b.version}`);
    const pre = h("div");
    preBtn.addEventListener("click", async () => {
      clear(pre);
      try {
        const r = await api("POST", "/api/v1/upgrades/preflight", { bundleId: b.id });
        pre.append(h("h3", { class: "subhead" }, "Preflight"), table(["Check", "Result", "Detail"], r.outcomes.map((o) => h("tr", {}, h("td", {}, o.id), h("td", {}, light(o.status === "pass" ? "green" : o.status === "warn" ? "amber" : "red", o.status.toUpperCase())), h("td", {}, o.message, o.remedy ? h("div", { class: "muted" }, o.remedy) : null)))));
      } catch (e) { pre.append(errorBox(e)); }
    });
    startBtn.addEventListener("click", async () => {
      try {
        const { runId } = await api("POST", "/api/v1/upgrades", { bundleId: b.id });
        watch(runId);
      } catch (e) { clear(progress); progress.append(errorBox(e)); }
    });
    detail.append(panel(`${b.name} ${b.version}: what changes`, h("div", { class: "row" }, preBtn, startBtn),
      table(["Component", "Installed", "Bundle", "Change"], diff.changes.map((c) => h("tr", {}, h("td", {}, c.name), h("td", { class: "mono" }, c.from || "—"), h("td", { class: "mono" }, c.to || "—"), h("td", {}, h("span", { class: "tag" }, c.change))))),
      pre));
  };

  const watch = (runId) => {
    if (source) source.close();
    clear(progress);
    const bar = h("div");
    const label = h("div", { class: "muted", id: "upgrade-status" }, "Starting…");
    const steps = h("ul", { class: "steps", id: "upgrade-steps" });
    const byStep = new Map();
    progress.append(panel(`Upgrade run ${runId}`, null, h("div", { class: "progress" }, bar), label, steps));
    source = new EventSource(`/api/v1/upgrades/${runId}/events`);
    const stepLine = (id, title) => {
      if (!byStep.has(id)) { const li = h("li", { class: "running" }, title || id); byStep.set(id, li); steps.append(li); }
      return byStep.get(id);
    };
    for (const type of ["run-start", "step-start", "step-log", "step-done", "step-failed", "progress", "run-end"]) {
      source.addEventListener(type, (ev) => {
        const e = JSON.parse(ev.data);
        if (type === "step-start") stepLine(e.stepId, e.message);
        if (type === "step-done") { const li = stepLine(e.stepId); li.className = "done"; li.prepend("✓ "); }
        if (type === "step-failed") { const li = stepLine(e.stepId); li.className = "failed"; li.append(` — ${e.message}`); }
        if (e.percent !== null && e.percent !== undefined) bar.style.width = `${e.percent}%`;
        if (type !== "step-log") label.textContent = e.message;
      });
    }
    source.addEventListener("end", (ev) => {
      const { status: s } = JSON.parse(ev.data);
      source.close();
      label.textContent = s === "succeeded" ? "Upgrade finished successfully." : `Upgrade ${s.replace("_", " ")}.`;
      label.className = s === "succeeded" ? "notice ok" : "notice error";
      label.id = "upgrade-status";
    });
  };

  content.append(
    h("div", { class: "cards" }, h("div", { class: "card" }, h("h3", {}, "Installed platform"), h("div", { class: "big" }, versions.platform || "—")), h("div", { class: "card" }, h("h3", {}, "Upgrade in progress"), h("div", { class: "big" }, current.run ? `Run ${current.run.id}` : "None"))),
    panel("Bundles", canRun ? h("div", { class: "row" }, upload, uploadBtn) : null, status,
      table(["Bundle", "Version", "Added", "Source", ""], bundles.map((b) => {
        const pick = h("button", { class: "secondary", "data-bundle": b.id }, "Review");
        pick.addEventListener("click", () => showBundle(b).catch((e) => detail.append(errorBox(e))));
        return h("tr", {}, h("td", {}, h("b", {}, b.name)), h("td", { class: "mono" }, b.version), h("td", {}, when(b.addedAt), h("div", { class: "muted" }, b.addedBy || "")), h("td", {}, b.source), h("td", {}, pick));
      }), "No bundles yet: upload one, or register a file on the node with POST /api/v1/bundles/register.")),
    detail, progress,
    panel("History", null, table(["Run", "Kind", "From → to", "Status", "Started", "Finished", "By"], runs.map((r) => h("tr", {}, h("td", {}, `#${r.id}`), h("td", {}, r.kind), h("td", { class: "mono" }, `${r.fromVersion || "—"} → ${r.toVersion || "—"}`), h("td", {}, light(r.status === "succeeded" ? "green" : r.status === "running" ? "amber" : "red", r.status.replace("_", " "))), h("td", {}, when(r.startedAt)), h("td", {}, when(r.finishedAt)), h("td", {}, r.startedBy || "—"))), "No install or upgrade has run yet.")));
  if (current.run) watch(current.run.id);
  return { dispose: () => source && source.close() };
}

async function audit(content) {
  const state = { page: 1, pageSize: 25, actor: "", action: "", result: "" };
  const actor = h("input", { placeholder: "any", id: "audit-actor" });
  const action = h("input", { placeholder: "e.g. login or user.*", id: "audit-action" });
  const result = h("select", { id: "audit-result" }, h("option", { value: "" }, "any"), ...["success", "failure", "denied"].map((x) => h("option", { value: x }, x)));
  const body = h("div");
  const exportLink = h("a", { class: "button secondary", id: "audit-export", download: "" }, "Export JSON lines");
  const query = (extra) => { const q = new URLSearchParams(); for (const k of ["actor", "action", "result"]) if (state[k]) q.set(k, state[k]); for (const [k, v] of Object.entries(extra || {})) q.set(k, v); return q.toString(); };
  const load = async () => {
    clear(body);
    exportLink.setAttribute("href", `/api/v1/audit/export?${query()}`);
    try {
      const r = await api("GET", `/api/v1/audit?${query({ page: state.page, pageSize: state.pageSize })}`);
      const pages = Math.max(1, Math.ceil(r.total / r.pageSize));
      const prev = h("button", { class: "secondary", disabled: state.page <= 1 }, "Previous");
      const next = h("button", { class: "secondary", disabled: state.page >= pages }, "Next");
      prev.addEventListener("click", () => { state.page--; load(); });
      next.addEventListener("click", () => { state.page++; load(); });
      body.append(table(["When", "Who", "What", "Target", "From", "Result"], r.items.map((e) => h("tr", {},
        h("td", {}, when(e.at)), h("td", {}, e.actor || "—"), h("td", {}, h("span", { class: "tag" }, e.action), e.detail && e.detail.reason ? h("div", { class: "muted" }, e.detail.reason) : null), h("td", {}, e.target || "—"), h("td", { class: "mono" }, e.ip || "—"),
        h("td", {}, light(e.result === "success" ? "green" : e.result === "denied" ? "amber" : "red", e.result)))), "No entries match."),
      h("div", { class: "pager" }, h("span", { class: "muted" }, `${r.total} entries · page ${r.page} of ${pages}`), prev, next));
    } catch (e) { body.append(errorBox(e)); }
  };
  const apply = h("button", { id: "audit-apply" }, "Filter");
  apply.addEventListener("click", () => { Object.assign(state, { page: 1, actor: actor.value.trim(), action: action.value.trim(), result: result.value }); load(); });
  await api("GET", "/api/v1/audit?pageSize=1");
  content.append(panel("Audit log", exportLink, h("div", { class: "row" }, h("label", {}, "Who", actor), h("label", {}, "What", action), h("label", {}, "Result", result), apply), h("div", { class: "spacer" }), body));
  await load();
}

async function users(content, me) {
  const [{ items }, settings] = await Promise.all([api("GET", "/api/v1/users"), api("GET", "/api/v1/settings")]);
  const status = h("div", { id: "users-status" });
  const act = async (fn, ok) => { clear(status); try { await fn(); status.append(h("div", { class: "notice ok" }, ok)); setTimeout(() => window.dispatchEvent(new HashChangeEvent("hashchange")), 700); } catch (e) { status.append(errorBox(e)); } };
  const roleSel = (v) => h("select", {}, ...["admin", "operator", "viewer"].map((r) => h("option", { value: r, selected: r === v }, r)));
  const rows = items.map((u) => {
    const sel = roleSel(u.role);
    sel.addEventListener("change", () => act(() => api("PATCH", `/api/v1/users/${encodeURIComponent(u.name)}`, { role: sel.value }), `${u.name} is now ${sel.value}.`));
    const unlock = u.lockedUntil ? h("button", { class: "secondary" }, "Unlock") : null;
    if (unlock) unlock.addEventListener("click", () => act(() => api("PATCH", `/api/v1/users/${encodeURIComponent(u.name)}`, { unlock: true }), `${u.name} unlocked.`));
    const del = u.name === me.name ? null : h("button", { class: "danger" }, "Remove");
    if (del) del.addEventListener("click", () => { if (confirm(`Remove ${u.name}?`)) act(() => api("DELETE", `/api/v1/users/${encodeURIComponent(u.name)}`), `${u.name} removed.`); });
    return h("tr", {}, h("td", {}, h("b", {}, u.name)), h("td", {}, sel), h("td", {}, u.lockedUntil ? light("red", `Locked until ${when(u.lockedUntil)}`) : light("green", "Active")), h("td", {}, when(u.createdAt)), h("td", {}, h("div", { class: "row" }, unlock, del)));
  });
  const name = h("input", { id: "new-user-name", placeholder: "e.g. alice" });
  const role = roleSel("viewer");
  const pw = h("input", { id: "new-user-password", type: "password", placeholder: "at least 12 characters", autocomplete: "new-password" });
  const create = h("button", { id: "new-user-create" }, "Create user");
  create.addEventListener("click", () => act(() => api("POST", "/api/v1/users", { name: name.value.trim(), role: role.value, password: pw.value }), `User ${name.value.trim()} created.`));
  const fields = Object.entries({ loginMaxFailures: "Failed logins before lock", lockoutMinutes: "Lockout (minutes)", sessionIdleMinutes: "Idle timeout (minutes)", sessionMaxHours: "Session length (hours)" }).map(([k, label]) => [k, h("input", { type: "number", min: 1, value: settings[k] }), label]);
  const portal = h("input", { value: settings.portalUrl, placeholder: "https://portal.example" });
  const save = h("button", {}, "Save settings");
  save.addEventListener("click", () => act(() => api("PATCH", "/api/v1/settings", { ...Object.fromEntries(fields.map(([k, input]) => [k, Number(input.value)])), portalUrl: portal.value.trim() }), "Settings saved."));
  content.append(status,
    panel("Users", null, table(["User", "Role", "Status", "Created", ""], rows)),
    panel("Add a user", null, h("div", { class: "row" }, h("label", {}, "Name", name), h("label", {}, "Role", role), h("label", {}, "Password", pw), create)),
    panel("Security settings", null, h("div", { class: "row" }, ...fields.map(([, input, label]) => h("label", {}, label, input)), h("label", {}, "Portal URL", portal), save)));
}

/** Page id → title and renderer; the order is the navigation order. */
export const PAGES = {
  overview: { title: "Overview", render: overview },
  nodes: { title: "Nodes", render: nodes },
  services: { title: "Services", render: services },
  upgrades: { title: "Upgrades", render: upgrades },
  audit: { title: "Audit log", render: audit },
  users: { title: "Users", render: users },
};
