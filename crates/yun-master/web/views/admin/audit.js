// The audit log, newest first, and the billing check: every balance against its ledger.

import { api } from "../../api.js";
import { h, credits, when } from "../../dom.js";
import { table, head, pager } from "./common.js";

// A tallied entry (failed logins for one account from one source) says how often and until when.
function repeated(e) {
  if (e.repeats <= 1) return null;
  return h("span", { class: "muted repeats" }, ` · ${e.repeats} times, last ${when(e.last_at)}`);
}

export async function auditPage(ctx) {
  document.title = "Audit · yun";
  const cursor = ctx.params.get("cursor") || "";
  const [check, log] = await Promise.all([
    api("GET", "/admin/billing/check"),
    api("GET", `/admin/audit?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
  ]);
  const balanced = check.unbalanced.length === 0;
  return h(
    "section",
    {},
    head("Audit"),
    h(
      "div",
      { class: balanced ? "notice ok" : "notice", id: "billing-check" },
      balanced
        ? "Billing check: every balance equals the sum of its ledger."
        : [
            h("p", {}, `Billing check: ${check.unbalanced.length} balance(s) differ from their ledger.`),
            h("ul", {}, check.unbalanced.map((u) => h("li", {}, h("code", {}, u.user_id), `: balance ${credits(u.balance)}, ledger ${credits(u.ledger_sum)}`))),
          ],
    ),
    table(
      "audit",
      ["When", "Who", "What", "About", "Detail"],
      log.entries.map((e) => h("tr", {}, h("td", {}, when(e.at)), h("td", {}, h("code", {}, e.actor)), h("td", {}, e.action), h("td", {}, h("code", {}, e.subject)), h("td", {}, e.detail, repeated(e)))),
    ),
    pager("/admin/audit", cursor, log.next_cursor),
  );
}
