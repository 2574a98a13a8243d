// Accounts: balance, role, ban and unban, and credit adjustments with a reason (each one a
// ledger entry and an audit line).

import { api } from "../../api.js";
import { h, replace, credits, when, showError } from "../../dom.js";
import { table, action, head, pager } from "./common.js";

export async function usersPage(ctx) {
  document.title = "Users · yun";
  const cursor = ctx.params.get("cursor") || "";
  const message = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  const report = (e) => {
    message.textContent = e.message;
  };
  const adjust = (u) => {
    const amount = h("input", { name: "amount", type: "number", step: 1, required: true, placeholder: "± credits", "aria-label": `Credits to add to ${u.username} (negative takes)` });
    const reason = h("input", { name: "reason", required: true, maxlength: 500, placeholder: "reason", "aria-label": `Reason for ${u.username}'s adjustment` });
    const form = h(
      "form",
      { class: "inline", novalidate: true },
      amount,
      reason,
      h("button", { type: "submit", class: "small" }, "Adjust"),
      h("p", { class: "form-error", role: "alert" }),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api("POST", `/admin/users/${encodeURIComponent(u.id)}/credits`, { amount: Number(amount.value), reason: reason.value });
        await draw();
      } catch (err) {
        showError(form, err);
      }
    });
    return form;
  };
  const draw = async () => {
    const page = await api("GET", `/admin/users?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    replace(
      body,
      table(
        "users",
        ["User", "Role", "Balance", "Since", "Credit adjustment", "Actions"],
        page.users.map((u) =>
          h(
            "tr",
            { "data-user": u.username },
            h("th", { scope: "row" }, u.username, " ", u.banned ? h("span", { class: "badge state-failed" }, "banned") : null),
            h("td", {}, u.role),
            h("td", { class: "num" }, credits(u.balance)),
            h("td", {}, when(u.created_at)),
            h("td", {}, adjust(u)),
            h(
              "td",
              {},
              u.banned
                ? action("Unban", `Unban ${u.username}`, () => api("POST", `/admin/users/${encodeURIComponent(u.id)}/unban`), draw, report)
                : action("Ban", `Ban ${u.username}`, () => api("POST", `/admin/users/${encodeURIComponent(u.id)}/ban`), draw, report, true),
            ),
          ),
        ),
      ),
      pager("/admin/users", cursor, page.next_cursor),
    );
  };
  await draw();
  return h("section", {}, head("Users"), message, body);
}
