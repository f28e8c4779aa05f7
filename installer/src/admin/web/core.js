// Small helpers shared by the console's pages: DOM building (no innerHTML), the API client, the session.

/** Builds an element; children may be strings, nodes, null or arrays. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

/** An API refusal: the service's {code, message, remedy}. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.remedy = body && body.remedy;
  }
}

const KEY = "omstack.session";
/** The CSRF token and user live in sessionStorage (this tab only); the session cookie itself is HttpOnly. */
export const session = {
  set(csrfToken, user) { sessionStorage.setItem(KEY, JSON.stringify({ csrfToken, user })); },
  get() { try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; } },
  user() { const s = this.get(); return s ? s.user : null; },
  csrf() { const s = this.get(); return s ? s.csrfToken : ""; },
  clear() { sessionStorage.removeItem(KEY); },
};

/** Calls the API; throws ApiError with the service's message and remedy. */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = session.csrf();
  let payload;
  if (opts.raw) { payload = body; headers["content-type"] = "application/octet-stream"; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers["content-type"] = "application/json"; }
  const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export function light(l, text) {
  const words = { green: "Healthy", amber: "Attention", red: "Critical" };
  return h("span", { class: `pill ${l || "grey"}` }, text || words[l] || "Unknown");
}

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const u = ["B", "KB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${u[i]}`;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function panel(title, actions, ...body) {
  return h("section", { class: "panel" }, h("header", {}, h("h2", {}, title), actions || null), h("div", { class: "body" }, ...body));
}

export function table(headers, rows, empty = "Nothing to show yet.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { class: x.startsWith("#") ? "num" : "" }, x.replace(/^#/, ""))))), h("tbody", {}, rows));
}

/** A refusal as a person should read it: what happened and how to fix it, never raw JSON. */
export function errorBox(e) {
  if (e instanceof ApiError) return h("div", { class: "notice error", role: "alert" }, h("b", {}, e.message), e.remedy ? h("span", {}, e.remedy) : null);
  return h("div", { class: "notice error", role: "alert" }, h("b", {}, "Something went wrong"), String(e && e.message ? e.message : e));
}

