// My account: change the password (every other session ends), my login sessions (where and
// when, ended one by one) and personal access tokens for scripts and CI (the secret shown
// once, listed, revoked).

import { api } from "../api.js";
import { h, replace, when, field, showError, whenSent } from "../dom.js";
import { table, action, head } from "./admin/common.js";

const TOKEN_DAYS = [
  ["7", "7 days"],
  ["30", "30 days"],
  ["90", "90 days"],
  ["365", "a year"],
];

function passwordForm(report) {
  const current = h("input", { name: "current_password", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 10, maxlength: 128 });
  const again = h("input", { name: "again", type: "password", autocomplete: "new-password", required: true });
  const done = h("p", { class: "notice", role: "status", hidden: true });
  const button = h("button", { type: "submit" }, "Change password");
  const form = h(
    "form",
    { class: "card", novalidate: true, id: "password-form" },
    h("h2", {}, "Password"),
    field("Current password", current),
    field("New password", next, "10 to 128 characters that are hard to guess; a few unrelated words work well. Your other sessions end."),
    field("New password again", again),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    done,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    done.hidden = true;
    if (next.value !== again.value) {
      showError(form, { field: "again", message: "The two new passwords differ." });
      return;
    }
    button.disabled = true;
    try {
      const r = await api("POST", "/me/password", { current_password: current.value, new_password: next.value });
      showError(form, { message: "" });
      form.reset();
      const ended = `Password changed. ${r.sessions_ended} other session${r.sessions_ended === 1 ? "" : "s"} ended.`;
      if (r.access_tokens_kept > 0) {
        const n = r.access_tokens_kept;
        const revoke = h("button", { type: "button", class: "danger small", id: "revoke-all-tokens" }, `Revoke ${n === 1 ? "it" : `all ${n}`}`);
        revoke.addEventListener("click", async () => {
          revoke.disabled = true;
          try {
            const { access_tokens } = await api("GET", "/me/tokens");
            for (const t of access_tokens) await api("DELETE", `/me/tokens/${encodeURIComponent(t.id)}`);
            replace(done, "Password changed; every access token is revoked.");
            await report.refreshTokens();
          } catch (err) {
            report.error(err);
            revoke.disabled = false;
          }
        });
        replace(done, `${ended} ${n} access token${n === 1 ? "" : "s"} still work${n === 1 ? "s" : ""}: a token is not a session. `, revoke);
      } else {
        replace(done, ended);
      }
      done.hidden = false;
      await report.refresh();
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function sessionsSection(report) {
  const list = h("div", {});
  const draw = async () => {
    const { sessions } = await api("GET", "/me/sessions");
    replace(
      list,
      table(
        "sessions",
        ["Started", "From", "Client", "Last used", "Ends", "Actions"],
        sessions.map((s) =>
          h(
            "tr",
            { "data-session": s.id, "data-current": String(s.current) },
            h("th", { scope: "row" }, when(s.created_at), s.current ? [" ", h("span", { class: "badge" }, "this one")] : null),
            h("td", {}, s.source || "—"),
            h("td", { class: "wrap" }, s.user_agent || "—"),
            h("td", {}, when(s.last_used_at)),
            h("td", {}, when(s.expires_at)),
            h("td", {}, s.current ? null : action("End", `End the session from ${s.source || "an unknown address"} started ${when(s.created_at)}`, () => api("DELETE", `/me/sessions/${encodeURIComponent(s.id)}`), draw, report.error, true)),
          ),
        ),
      ),
    );
  };
  report.refresh = draw;
  return {
    draw,
    node: h("section", { "aria-labelledby": "sessions-head" }, h("h2", { id: "sessions-head" }, "Sessions"), h("p", { class: "muted" }, "Where you are logged in. Ending a session closes its consoles and live views at once."), list),
  };
}

function tokensSection(report) {
  const list = h("div", {});
  const shown = h("div", { class: "token-shown", "aria-live": "polite" });
  const draw = async () => {
    const { access_tokens } = await api("GET", "/me/tokens");
    replace(
      list,
      access_tokens.length === 0
        ? h("p", { class: "muted" }, "No access tokens.")
        : table(
            "access-tokens",
            ["Name", "Made", "Last used", "Expires", "Actions"],
            access_tokens.map((t) =>
              h(
                "tr",
                { "data-token": t.id },
                h("th", { scope: "row" }, t.name),
                h("td", {}, when(t.created_at)),
                h("td", {}, t.last_used_at ? when(t.last_used_at) : "never"),
                h("td", {}, when(t.expires_at)),
                h("td", {}, action("Revoke", `Revoke the token ${t.name}`, () => api("DELETE", `/me/tokens/${encodeURIComponent(t.id)}`), draw, report.error, true)),
              ),
            ),
          ),
    );
  };
  const name = h("input", { name: "name", required: true, maxlength: 64, placeholder: "ci-deploy", autocomplete: "off" });
  const days = h("select", { name: "expires_in_days" }, TOKEN_DAYS.map(([v, label]) => h("option", { value: v, selected: v === "30" }, label)));
  const button = h("button", { type: "submit" }, "Make a token");
  const form = h(
    "form",
    { class: "card", novalidate: true, id: "token-form" },
    h("h2", {}, "Access tokens"),
    h("p", { class: "muted" }, "For scripts and CI: send one as ", h("code", {}, "Authorization: Bearer …"), " or set it as YUN_TOKEN for the yun command. A token cannot change your password or make more tokens."),
    field("Name", name),
    field("Good for", days),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    shown,
  );
  whenSent(form, button, async () => {
    const made = await api("POST", "/me/tokens", { name: name.value.trim(), expires_in_days: Number(days.value) });
    showError(form, { message: "" });
    form.reset();
    replace(shown, h("p", {}, `The token “${made.access_token.name}”, shown only this once:`), h("pre", { class: "command" }, h("code", { id: "new-token" }, made.token)));
    await draw();
  });
  return { draw, node: h("section", {}, form, list) };
}

export async function accountPage(ctx) {
  document.title = "Account · yun";
  const message = h("p", { class: "form-error", role: "alert", id: "account-error" });
  const report = { error: (err) => (message.textContent = err.message), refresh: async () => {} };
  const sessions = sessionsSection(report);
  const tokens = tokensSection(report);
  report.refreshTokens = tokens.draw;
  await Promise.all([sessions.draw(), tokens.draw()]);
  return h("section", {}, head(`Account: ${ctx.session.user.username}`), message, passwordForm(report), sessions.node, tokens.node);
}
