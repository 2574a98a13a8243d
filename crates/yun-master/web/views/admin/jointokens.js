// Join tokens on the nodes page: make one (its secret shown this once, with the command a new
// host runs), list them with what is left of each, revoke one.

import { api } from "../../api.js";
import { h, replace, when, field, showError, whenSent } from "../../dom.js";
import { table, action } from "./common.js";

const LIFETIMES = [
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["604800", "7 days"],
];

function uses(t) {
  return t.max_uses === null ? `${t.uses}` : `${t.uses} of ${t.max_uses}`;
}

/** The section; `report` shows a refusal in the page's message area. */
export function joinTokens(caDigest, report) {
  const list = h("div", {});
  const shown = h("div", { class: "token-shown", "aria-live": "polite" });
  const draw = async () => {
    const { join_tokens } = await api("GET", "/admin/join-tokens");
    replace(
      list,
      join_tokens.length === 0
        ? h("p", { class: "muted" }, "No join tokens yet.")
        : table(
            "join-tokens",
            ["Token", "State", "Joins", "Expires", "Made by", "Actions"],
            join_tokens.map((t) =>
              h(
                "tr",
                { "data-token": t.id },
                h("th", { scope: "row" }, h("code", {}, t.id)),
                h("td", {}, h("span", { class: `badge token-${t.state}` }, t.state.replace("_", " "))),
                h("td", {}, uses(t)),
                h("td", {}, when(t.expires_at)),
                h("td", {}, t.created_by),
                h("td", {}, t.state === "active" ? action("Revoke", `Revoke join token ${t.id}`, () => api("DELETE", `/admin/join-tokens/${encodeURIComponent(t.id)}`), draw, report, true) : null),
              ),
            ),
          ),
    );
  };
  const ttl = h("select", { name: "ttl_seconds" }, LIFETIMES.map(([v, label]) => h("option", { value: v, selected: v === "86400" }, label)));
  const count = h("input", { name: "uses", type: "number", min: "1", inputmode: "numeric", placeholder: "any number" });
  const button = h("button", { type: "submit" }, "Make a join token");
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, "Join a worker"),
    h("p", { class: "muted" }, "A new Docker host joins with a token: it checks this cluster's CA by its digest, and the master checks the token's secret. The token is shown once."),
    field("Good for", ttl),
    field("Joins allowed", count, "Leave empty for any number until it expires."),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    shown,
  );
  whenSent(form, button, async () => {
    const body = { ttl_seconds: Number(ttl.value) };
    if (count.value.trim() !== "") body.uses = Number(count.value);
    const made = await api("POST", "/admin/join-tokens", body);
    showError(form, { message: "" });
    replace(
      shown,
      h("p", {}, "Run this on the new host, with MASTER the address of this master's RPC listener (its --rpc). The token is not shown again."),
      h("pre", { class: "command" }, h("code", { id: "join-command" }, `yun worker --master https://MASTER:8090 --join-token ${made.token} --name NAME --state-dir /var/lib/yun/worker`)),
    );
    await draw();
  });
  draw().catch(report);
  return h("section", { "aria-labelledby": "join-head" }, h("h2", { id: "join-head" }, "Join tokens"), h("p", { class: "muted" }, "Cluster CA ", h("code", { id: "ca-digest" }, caDigest)), form, list);
}
