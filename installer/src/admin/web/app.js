// OMStack admin console: session, routing and layout. Every asset is served by the admin service (no CDN).
import { h, clear, api, ApiError, session, errorBox } from "./core.js";
import { PAGES } from "./pages.js";

const root = document.getElementById("app");

function renderLogin(message) {
  clear(root);
  const user = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const note = h("div");
  if (message) note.append(h("div", { class: "notice info" }, message));
  const form = h("form", { id: "login-form" },
    h("h1", {}, h("img", { src: "/assets/logo.svg", alt: "" }), "OMStack Admin"),
    h("p", { class: "muted" }, "Sign in to manage the cluster."),
    note,
    h("label", {}, "User name", user),
    h("label", {}, "Password", pass),
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(note);
    try {
      const r = await api("POST", "/api/v1/session", { username: user.value, password: pass.value });
      session.set(r.csrfToken, r.user);
      if (!location.hash || location.hash === "#/login") location.hash = "#/overview";
      route();
    } catch (e) {
      note.append(errorBox(e));
      pass.value = "";
    }
  });
  root.append(h("div", { class: "login" }, form));
}

function layout(page, user) {
  clear(root);
  const nav = h("nav", { class: "nav" }, ...Object.entries(PAGES).map(([id, p]) => h("a", { href: `#/${id}`, class: id === page ? "active" : "", "data-page": id }, p.title)));
  const content = h("section", { class: "content", id: "content" });
  const logout = h("button", { class: "secondary", id: "logout" }, "Sign out");
  logout.addEventListener("click", async () => {
    try { await api("DELETE", "/api/v1/session"); } catch { /* already gone */ }
    session.clear();
    renderLogin("You have signed out.");
  });
  const support = user.role === "viewer" ? null : h("a", { class: "button secondary", href: "/api/v1/support-bundle", download: "", id: "support-download" }, "Download support bundle");
  root.append(h("div", { class: "shell" },
    h("aside", { class: "side" }, h("div", { class: "brand" }, h("img", { src: "/assets/logo.svg", alt: "" }), h("div", {}, "OMStack", h("small", {}, "Admin console"))), nav),
    h("div", { class: "main" },
      h("header", { class: "top" }, h("h1", {}, PAGES[page].title), h("div", { class: "who" }, support, h("span", { id: "whoami" }, `${user.name} · ${user.role}`), logout)),
      content)));
  return content;
}

let current = null;
async function route() {
  const page = (location.hash.replace(/^#\//, "") || "overview").split("?")[0];
  const user = session.user();
  if (!user) return renderLogin();
  if (!PAGES[page]) { location.hash = "#/overview"; return; }
  if (current && current.dispose) current.dispose();
  const content = layout(page, user);
  try {
    current = (await PAGES[page].render(content, user)) || null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { session.clear(); return renderLogin("Your session has ended. Please sign in again."); }
    if (e instanceof ApiError && e.status === 403) {
      clear(content);
      content.append(h("div", { class: "panel refused", id: "refused" }, h("h2", {}, "You do not have access to this page"), h("p", { class: "muted" }, e.message), h("p", {}, e.remedy)));
      return;
    }
    clear(content);
    content.append(errorBox(e));
  }
}

window.addEventListener("hashchange", route);
(async () => {
  // A reload keeps the session cookie but not the CSRF token in memory: check the session, else ask to sign in.
  if (session.user()) {
    try { await api("GET", "/api/v1/session"); } catch { session.clear(); }
  }
  route();
})();
