// The console's shell: who is signed in, the navigation, and which page a path shows.

import { api } from "./api.js";
import { h, replace, credits } from "./dom.js";
import { events } from "./events.js";
import { loginPage, signupPage } from "./views/auth.js";
import { containersPage, allContainersPage } from "./views/containers.js";
import { imagesPage } from "./views/images.js";
import { nodesPage } from "./views/admin/nodes.js";
import { usersPage } from "./views/admin/users.js";
import { catalogPage } from "./views/admin/images.js";
import { ordersPage } from "./views/admin/orders.js";
import { auditPage } from "./views/admin/audit.js";
import { runPage } from "./views/run.js";
import { containerPage } from "./views/container.js";
import { billingPage } from "./views/billing.js";
import { accountPage } from "./views/account.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const account = document.getElementById("account");

/** What the pages share: the signed-in user (null when signed out) and navigation. */
export const session = {
  user: null,
  /** Why the console logged out by itself, shown once on the login page. */
  notice: null,
  async refresh() {
    try {
      session.user = (await api("GET", "/me")).user;
    } catch (e) {
      if (e.status !== 401) throw e;
      loggedOut(e);
    }
    drawHeader();
    return session.user;
  },
};

/** The session is gone; a refusal of two session cookies says why on the login page. */
function loggedOut(e) {
  session.user = null;
  if (e.code === "ambiguous_session") session.notice = e.message;
}

const routes = [
  { path: /^\/login$/, page: loginPage, open: true },
  { path: /^\/signup$/, page: signupPage, open: true },
  { path: /^\/$/, page: containersPage },
  { path: /^\/containers$/, page: containersPage },
  { path: /^\/run$/, page: runPage },
  { path: /^\/containers\/([^/]+)$/, page: containerPage },
  { path: /^\/billing$/, page: billingPage },
  { path: /^\/account$/, page: accountPage },
  { path: /^\/images$/, page: imagesPage },
  { path: /^\/admin\/nodes$/, page: nodesPage, admin: true },
  { path: /^\/admin\/users$/, page: usersPage, admin: true },
  { path: /^\/admin\/catalog$/, page: catalogPage, admin: true },
  { path: /^\/admin\/containers$/, page: allContainersPage, admin: true },
  { path: /^\/admin\/orders$/, page: ordersPage, admin: true },
  { path: /^\/admin\/audit$/, page: auditPage, admin: true },
];

/** Shows the page for `path`, adding it to the history unless `replaceState`. */
export async function go(path, replaceState = false) {
  if (replaceState) history.replaceState(null, "", path);
  else if (path !== location.pathname + location.search) history.pushState(null, "", path);
  await draw();
}

let drawing = 0;
let leaving = [];
async function draw() {
  const ticket = ++drawing;
  // The last page's streams and timers end before the next page starts.
  for (const fn of leaving.splice(0)) fn();
  const path = location.pathname;
  const route = routes.find((r) => r.path.test(path));
  if (!route) return notFound();
  if (!route.open && !session.user) {
    return go(`/login?next=${encodeURIComponent(path + location.search)}`, true);
  }
  if (route.open && session.user) return go("/", true);
  if (route.admin && session.user.role !== "admin") return notFound();
  const params = new URLSearchParams(location.search);
  const match = path.match(route.path);
  const onLeave = (fn) => leaving.push(fn);
  let content;
  try {
    content = await route.page({ params, match, session, go, onLeave });
  } catch (e) {
    if (e.status === 401) {
      loggedOut(e);
      drawHeader();
      return go(`/login?next=${encodeURIComponent(path + location.search)}`, true);
    }
    content = h("section", {}, h("h1", {}, "Something went wrong"), h("p", { class: "form-error" }, e.message), h("p", {}, h("a", { href: path + location.search }, "Try again")));
  }
  if (ticket !== drawing) return; // a newer navigation won
  replace(view, content);
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === path || (path === "/" && a.getAttribute("href") === "/containers")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  view.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function notFound() {
  document.title = "Not found · yun";
  replace(view, h("h1", {}, "Nothing here"), h("p", {}, "This page does not exist. ", h("a", { href: "/" }, "Go to your containers.")));
}

function drawHeader() {
  const u = session.user;
  if (!u) {
    replace(nav);
    replace(account, h("a", { href: "/login" }, "Log in"), h("a", { href: "/signup", class: "button small" }, "Sign up"));
    return;
  }
  replace(
    nav,
    h("a", { href: "/containers" }, "Containers"),
    h("a", { href: "/run" }, "Run"),
    h("a", { href: "/images" }, "Images"),
    h("a", { href: "/billing" }, "Billing"),
    u.role === "admin"
      ? h(
          "span",
          { class: "admin-nav", role: "group", "aria-label": "Operator" },
          h("a", { href: "/admin/nodes" }, "Nodes"),
          h("a", { href: "/admin/users" }, "Users"),
          h("a", { href: "/admin/catalog" }, "Catalog"),
          h("a", { href: "/admin/containers" }, "All containers"),
          h("a", { href: "/admin/orders" }, "Orders"),
          h("a", { href: "/admin/audit" }, "Audit"),
        )
      : null,
  );
  const balance = h("a", { class: "balance", id: "balance", href: "/billing", title: "Your balance" }, credits(u.balance));
  const logout = h("button", { type: "button", class: "link", onclick: logOut }, "Log out");
  replace(account, balance, h("a", { class: "who", href: "/account", title: "Your account: password, sessions, access tokens" }, u.username, u.role === "admin" ? " (operator)" : ""), logout);
}

async function logOut() {
  try {
    await api("POST", "/auth/logout");
  } finally {
    events.stop();
    session.user = null;
    drawHeader();
    go("/login");
  }
}

// Links inside the console navigate without reloading the page.
document.addEventListener("click", (e) => {
  const a = e.target.closest("a");
  if (!a || a.target || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", draw);

// Every file arrived: boot.js need not start the console again.
sessionStorage.removeItem("yun-boot-retries");
session.refresh().then(draw, (e) => replace(view, h("p", { class: "form-error" }, e.message)));
