// Accounts: balance, role, ban and unban, credit adjustments with a reason (each one a ledger
// entry and an audit line), and opening an account for someone (also when registration is
// closed).

import { api } from "../../api.js";
import { h, replace, credits, when, field, showError, whenSent } from "../../dom.js";
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
  return h("section", {}, head("Users"), message, body, openAccount(draw));
}

/** The form that opens an account; its owner changes the password on first login. */
function openAccount(draw) {
  const username = h("input", { name: "username", required: true, autocomplete: "off", pattern: "[a-z0-9_-]{3,32}" });
  const password = h("input", { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 10, maxlength: 128 });
  const button = h("button", { type: "submit" }, "Open the account");
  const done = h("p", { class: "muted", role: "status" });
  const form = h(
    "form",
    { class: "card", id: "open-account", novalidate: true },
    h("h2", {}, "Open an account"),
    h("p", { class: "muted" }, "For someone you let in, also when registration is closed. The account gets the sign-up credits; give its owner the password, which they change under Account."),
    field("Username", username, "3 to 32 lowercase letters, digits, - or _."),
    field("Password", password, "10 to 128 characters that are hard to guess."),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    done,
  );
  whenSent(form, button, async () => {
    const made = await api("POST", "/admin/users", { username: username.value.trim(), password: password.value });
    showError(form, { message: "" });
    done.textContent = `Opened the account ${made.user.username}.`;
    form.reset();
    await draw();
  });
  return form;
}
