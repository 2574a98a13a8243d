// The renter's containers: state badges that change live (the event stream), endpoints as
// links, the power actions, a state filter and pages of 50.

import { api } from "../api.js";
import { h, replace, when } from "../dom.js";
import { events, allEvents } from "../events.js";
import { refreshBalance } from "../balance.js";
import { confirmDialog } from "./dialog.js";

const STATES = ["creating", "running", "stopping", "stopped", "exited", "restarting", "suspended", "lost", "removing", "failed"];

export function badge(state) {
  return h("span", { class: `badge state-${state}`, "data-state": state }, state);
}

/** An endpoint as a link a browser can open (TCP), or as text (UDP). */
export function endpointLink(port) {
  if (port.protocol === "udp") return h("code", {}, `${port.endpoint}/udp`);
  return h("a", { href: `http://${port.endpoint}`, target: "_blank", rel: "noopener noreferrer" }, port.endpoint);
}

/** Start, stop, restart and remove for one container; `after` runs when one succeeded. */
export function powerButtons(c, after, report) {
  const act = (label, verb, run) =>
    h("button", {
      type: "button",
      class: verb === "remove" ? "small danger" : "small",
      "data-action": verb,
      "aria-label": `${label} ${c.name}`,
      onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try {
          const done = await run();
          if (done !== false) await after(verb);
        } catch (err) {
          report(err);
        } finally {
          b.disabled = false;
        }
      },
    }, label);
  const path = `/containers/${encodeURIComponent(c.id)}`;
  const running = ["running", "restarting", "creating"].includes(c.state);
  return h(
    "div",
    { class: "buttons" },
    running
      ? act("Stop", "stop", () => api("POST", `${path}/stop`))
      : act("Start", "start", () => api("POST", `${path}/start`)),
    act("Restart", "restart", () => api("POST", `${path}/restart`)),
    act("Remove", "remove", async () => {
      const sure = await confirmDialog(`Remove ${c.name}?`, "The container and its files are deleted; its deposit comes back to your balance.", "Remove");
      if (!sure) return false;
      await api("DELETE", path);
    }),
  );
}

/** Every user's containers, for operators. */
export function allContainersPage(ctx) {
  return containersPage({ ...ctx, all: true });
}

export async function containersPage(ctx) {
  const base = ctx.all ? "/admin/containers" : "/containers";
  document.title = ctx.all ? "All containers · yun" : "Containers · yun";
  const state = ctx.params.get("state") || "";
  const cursor = ctx.params.get("cursor") || "";
  const message = h("p", { class: "form-error", role: "alert" });
  const body = h("tbody");
  const table = h(
    "table",
    { class: "list" },
    h("caption", { class: "sr-only" }, ctx.all ? "Every user's containers" : "Your containers"),
    h("thead", {}, h("tr", {}, ["Name", "State", "Image", "Plan", "Endpoints", "Created", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
    body,
  );
  const filter = h(
    "select",
    { id: "state-filter", name: "state", onchange: (e) => ctx.go(e.target.value ? `${base}?state=${e.target.value}` : base) },
    h("option", { value: "" }, "All states"),
    STATES.map((s) => h("option", { value: s, selected: s === state }, s)),
  );
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const empty = h("div", { class: "empty", hidden: true });
  const query = new URLSearchParams({ limit: "50" });
  if (state) query.set("state", state);
  if (cursor) query.set("cursor", cursor);
  if (ctx.all) query.set("all", "true");

  const rows = new Map();
  const report = (err) => {
    message.textContent = err.message;
  };
  const reload = async () => {
    const page = await api("GET", `/containers?${query}`);
    rows.clear();
    replace(body, page.containers.map((c) => row(c)));
    empty.hidden = page.containers.length > 0;
    replace(
      empty,
      state
        ? h("p", {}, `No container is ${state}.`)
        : [h("p", {}, "You have no containers yet."), h("a", { href: "/run", class: "button" }, "Run your first container")],
    );
    replace(pager, cursor ? h("a", { href: state ? `${base}?state=${state}` : base }, "First page") : null,
      page.next_cursor ? h("a", { href: `${base}?${new URLSearchParams({ ...(state ? { state } : {}), cursor: page.next_cursor })}`, rel: "next" }, "Next page") : null);
  };
  const after = async (verb) => {
    message.textContent = "";
    if (verb === "remove") await refreshBalance();
    await reload();
  };
  const row = (c) => {
    const tr = h(
      "tr",
      { "data-id": c.id, "data-name": c.name },
      h("th", { scope: "row" }, h("a", { href: `/containers/${encodeURIComponent(c.id)}` }, c.name)),
      h("td", { class: "state-cell" }, badge(c.state), c.status_reason ? h("span", { class: "reason" }, c.status_reason) : null),
      h("td", {}, h("code", {}, c.image)),
      h("td", {}, c.plan),
      h("td", {}, c.ports.length ? c.ports.map((p) => h("div", {}, endpointLink(p))) : h("span", { class: "muted" }, "none")),
      h("td", {}, when(c.created_at)),
      h("td", {}, powerButtons(c, after, report)),
    );
    rows.set(c.id, { tr, c });
    return tr;
  };

  // Live: a state change redraws its row; a container made or removed elsewhere reloads the page.
  const unsubscribe = (ctx.all ? allEvents : events).subscribe(async (ev) => {
    const known = rows.get(ev.container_id);
    if (!known) {
      if (ev.state !== "removed") reload().catch(report);
      return;
    }
    if (ev.state === "removed" || (state && ev.state !== state)) {
      reload().catch(report);
      return;
    }
    const c = { ...known.c, state: ev.state, status_reason: ev.status_reason, exit_code: ev.exit_code };
    known.tr.replaceWith(row(c));
  });
  ctx.onLeave(unsubscribe);

  try {
    await reload();
    // The next frame comes after the shell has put the list in the page (the benchmark's mark).
    requestAnimationFrame(() => performance.mark("yun:list-drawn"));
  } catch (err) {
    report(err);
  }
  return h(
    "section",
    {},
    h("div", { class: "page-head" }, h("h1", {}, ctx.all ? "All containers" : "Containers"), ctx.all ? null : h("a", { href: "/run", class: "button" }, "Run a container")),
    h("div", { class: "toolbar" }, h("label", { for: "state-filter" }, "Show"), filter),
    message,
    h("div", { class: "table-wrap" }, table),
    empty,
    pager,
  );
}
