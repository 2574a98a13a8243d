// Every renter's orders; an operator marks a manual order paid once the money has arrived.

import { api } from "../../api.js";
import { h, replace, credits, when } from "../../dom.js";
import { table, action, head, pager } from "./common.js";

export async function ordersPage(ctx) {
  document.title = "Orders · yun";
  const cursor = ctx.params.get("cursor") || "";
  const message = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  const report = (e) => {
    message.textContent = e.message;
  };
  const draw = async () => {
    const page = await api("GET", `/admin/orders?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    replace(
      body,
      table(
        "all-orders",
        ["Made", "User", "Credits", "Price", "Provider", "State", "Actions"],
        page.orders.map((o) =>
          h(
            "tr",
            { "data-order": o.id, "data-state": o.state },
            h("td", {}, when(o.created_at)),
            h("td", {}, h("code", {}, o.user_id || "")),
            h("td", { class: "num" }, credits(o.credits)),
            h("td", {}, `${o.amount} ${o.currency}`),
            h("td", {}, o.provider),
            h("td", {}, h("span", { class: `badge order-${o.state}` }, o.state)),
            h("td", {}, o.state === "pending" && o.provider === "manual" ? action("Mark paid", `Mark the order of ${o.credits} credits paid`, () => api("POST", `/admin/orders/${encodeURIComponent(o.id)}/paid`), draw, report) : null),
          ),
        ),
      ),
      page.orders.length ? null : h("p", { class: "muted" }, "No orders yet."),
      pager("/admin/orders", cursor, page.next_cursor),
    );
  };
  await draw();
  return h("section", {}, head("Orders"), message, body);
}
