// Money: the balance, recharge orders (made, paid through the provider's page, cancelled while
// pending) and the ledger a page at a time. Every figure is in credits, integer minor units.

import { api } from "../api.js";
import { h, replace, credits, when, field, whenSent } from "../dom.js";
import { refreshBalance } from "../balance.js";

const KINDS = {
  signup_credit: "Sign-up credit",
  top_up: "Top-up",
  deposit: "Deposit held",
  deposit_refund: "Deposit back",
  usage: "Running time",
  usage_refund: "Unused time back",
  pull: "Private pull",
  admin_adjustment: "Operator's adjustment",
};

function signed(n) {
  return n > 0 ? `+${credits(n)}` : credits(n);
}

function paymentNote(payment) {
  return h(
    "div",
    { class: "notice", id: "payment" },
    payment.url ? h("p", {}, h("a", { href: payment.url, rel: "noopener noreferrer" }, "Pay on the provider's page")) : null,
    payment.instructions ? h("p", {}, payment.instructions) : null,
  );
}

export async function billingPage(ctx) {
  document.title = "Billing · yun";
  const before = ctx.params.get("before");
  const [me, ledger, orders] = await Promise.all([
    api("GET", "/me"),
    api("GET", `/billing/ledger?limit=50${before ? `&before=${encodeURIComponent(before)}` : ""}`),
    api("GET", "/orders?limit=20"),
  ]);
  const balance = h("p", { class: "big", id: "billing-balance" }, credits(me.user.balance));
  const amount = h("input", { name: "credits", type: "number", min: 1, step: 1, required: true, value: 1000, inputmode: "numeric" });
  const paySlot = h("div", {});
  const orderRows = h("tbody");
  const noOrders = h("p", { class: "muted" }, "No orders yet.");
  const drawOrders = (list) => {
    noOrders.hidden = list.length > 0;
    replace(
      orderRows,
      list.map((o) =>
        h(
          "tr",
          { "data-order": o.id, "data-state": o.state },
          h("td", {}, when(o.created_at)),
          h("td", {}, credits(o.credits)),
          h("td", {}, `${o.amount} ${o.currency}`),
          h("td", {}, h("span", { class: `badge order-${o.state}` }, o.state)),
          h(
            "td",
            {},
            o.state === "pending"
              ? h("button", {
                  type: "button",
                  class: "small danger",
                  "aria-label": `Cancel the order of ${o.credits} credits`,
                  onclick: async () => {
                    await api("POST", `/orders/${encodeURIComponent(o.id)}/cancel`);
                    drawOrders((await api("GET", "/orders?limit=20")).orders);
                  },
                }, "Cancel")
              : null,
          ),
        ),
      ),
    );
  };
  drawOrders(orders.orders);
  const button = h("button", { type: "submit" }, "Top up");
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, "Top up"),
    field("Credits", amount, "Pay through the operator's payment provider; the credits arrive when it confirms."),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    paySlot,
  );
  whenSent(form, button, async () => {
    const made = await api("POST", "/orders", { credits: Number(amount.value) });
    replace(paySlot, paymentNote(made.payment));
    drawOrders((await api("GET", "/orders?limit=20")).orders);
  });
  // While an order is pending, its state and the balance are read again every 5 s.
  const timer = setInterval(async () => {
    if (document.hidden || !orderRows.querySelector("tr[data-state=pending]")) return;
    const b = await refreshBalance();
    if (b !== null) balance.textContent = credits(b);
    drawOrders((await api("GET", "/orders?limit=20")).orders);
  }, 5000);
  ctx.onLeave(() => clearInterval(timer));

  const entries = ledger.entries.map((e) =>
    h(
      "tr",
      {},
      h("td", {}, when(e.created_at)),
      h("td", {}, KINDS[e.kind] || e.kind),
      h("td", { class: e.amount < 0 ? "num neg" : "num" }, signed(e.amount)),
      h("td", { class: "num" }, credits(e.balance_after)),
      h("td", {}, e.note || e.reference),
    ),
  );
  return h(
    "section",
    {},
    h("h1", {}, "Billing"),
    h("div", { class: "split" }, h("div", { class: "card" }, h("h2", {}, "Balance"), balance, h("p", { class: "muted" }, "Running containers are charged per second; stopped time is free.")), form),
    h("h2", {}, "Orders"),
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "list", id: "orders" }, h("thead", {}, h("tr", {}, ["Made", "Credits", "Price", "State", "Actions"].map((t) => h("th", { scope: "col" }, t)))), orderRows),
    ),
    noOrders,
    h("h2", {}, "Ledger"),
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "list", id: "ledger" }, h("thead", {}, h("tr", {}, ["When", "What", "Amount", "Balance", "About"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, entries)),
    ),
    h("nav", { class: "pager", "aria-label": "Ledger pages" }, before ? h("a", { href: "/billing" }, "Newest") : null, ledger.next_before ? h("a", { href: `/billing?before=${ledger.next_before}`, rel: "next" }, "Older") : null),
  );
}
