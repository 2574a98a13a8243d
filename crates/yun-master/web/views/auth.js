// Sign up and log in. The console logs in for a cookie only (`session: "cookie"`): the answer
// carries no token, and the cookie is HttpOnly, so no script on the page can read a session.

import { api } from "../api.js";
import { h, field, whenSent } from "../dom.js";

function credentialsForm({ title, submit, intro, notice, onSubmit, other }) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 32, pattern: "[a-z0-9_\\-]{3,32}", autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { name: "password", type: "password", required: true, minlength: submit === "Sign up" ? 10 : 1, maxlength: 128, autocomplete: submit === "Sign up" ? "new-password" : "current-password" });
  const button = h("button", { type: "submit" }, submit);
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    h("h1", {}, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    notice ? h("p", { class: "notice", id: "logged-out-notice", role: "status" }, notice) : null,
    field("Username", username, submit === "Sign up" ? "3 to 32 characters: lowercase letters, digits, - and _." : null),
    field("Password", password, submit === "Sign up" ? "10 to 128 characters that are hard to guess; a few unrelated words work well." : null),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    h("p", { class: "muted" }, other),
  );
  whenSent(form, button, async () => {
    await onSubmit(username.value.trim(), password.value);
  });
  return form;
}

async function logIn(ctx, username, password) {
  await api("POST", "/auth/login", { username, password, session: "cookie" });
  await ctx.session.refresh();
  const next = ctx.params.get("next");
  ctx.go(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
}

export async function loginPage(ctx) {
  document.title = "Log in · yun";
  const notice = ctx.session.notice;
  ctx.session.notice = null;
  return credentialsForm({
    title: "Log in",
    submit: "Log in",
    notice,
    onSubmit: (u, p) => logIn(ctx, u, p),
    other: ["No account yet? ", h("a", { href: "/signup" }, "Sign up")],
  });
}

export async function signupPage(ctx) {
  document.title = "Sign up · yun";
  return credentialsForm({
    title: "Create your account",
    submit: "Sign up",
    intro: "New accounts start with free credits. You pay per second for what runs.",
    onSubmit: async (u, p) => {
      await api("POST", "/auth/register", { username: u, password: p });
      await logIn(ctx, u, p);
    },
    other: ["Already have an account? ", h("a", { href: "/login" }, "Log in")],
  });
}
