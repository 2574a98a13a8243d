// Images: the public catalog and the renter's own; pulling one shows a progress bar per layer
// as the node reports it; an own image can be removed.

import { api, ndjson } from "../api.js";
import { h, replace, bytes, when, field, whenSent } from "../dom.js";
import { refreshBalance } from "../balance.js";

function imageRow(i, onRemove) {
  return h(
    "tr",
    { "data-image": i.reference },
    h("th", { scope: "row" }, h("code", {}, i.reference)),
    h("td", {}, i.visibility === "public" ? "catalog" : "mine"),
    h("td", {}, bytes(i.size_bytes)),
    h("td", {}, i.exposed_ports.map((p) => `${p.container_port}/${p.protocol}`).join(", ") || "none"),
    h("td", {}, when(i.created_at)),
    h(
      "td",
      {},
      h("div", { class: "buttons" },
        h("a", { class: "button small", href: `/run?image=${encodeURIComponent(i.reference)}`, "aria-label": `Run ${i.reference}` }, "Run"),
        i.visibility === "private" ? h("button", { type: "button", class: "small danger", "aria-label": `Remove ${i.reference}`, onclick: () => onRemove(i) }, "Remove") : null,
      ),
    ),
  );
}

/** Reads a pull's NDJSON events, drawing a bar per layer; answers the last event. */
async function pullWithProgress(reference, bars) {
  const layers = new Map();
  let last = null;
  for await (const events of ndjson("POST", "/images/pull?format=ndjson", { reference })) {
    for (last of events) {
      if (last.type !== "progress" || !last.layer) continue;
      let bar = layers.get(last.layer);
      if (!bar) {
        bar = { meter: h("progress", { max: 1, value: 0, "aria-label": `Layer ${last.layer}` }), text: h("span", { class: "muted" }) };
        layers.set(last.layer, bar);
        bars.append(h("div", { class: "layer" }, h("code", {}, last.layer), bar.meter, bar.text));
      }
      if (last.total > 0) {
        bar.meter.max = last.total;
        bar.meter.value = last.current;
      }
      bar.text.textContent = last.total > 0 ? `${last.status} ${bytes(last.current)} of ${bytes(last.total)}` : last.status;
      if (/complete|already exists/i.test(last.status)) bar.meter.value = bar.meter.max;
    }
  }
  return last;
}

export async function imagesPage() {
  document.title = "Images · yun";
  const message = h("p", { class: "form-error", role: "alert" });
  const rows = h("tbody");
  const draw = async () => {
    const list = await api("GET", "/images?limit=200");
    replace(rows, list.images.map((i) => imageRow(i, remove)));
  };
  const remove = async (i) => {
    try {
      await api("DELETE", `/images/${encodeURIComponent(i.id)}`);
      await draw();
    } catch (e) {
      message.textContent = e.message;
    }
  };
  const reference = h("input", { name: "reference", required: true, placeholder: "registry/name:tag", spellcheck: "false", autocapitalize: "none" });
  const bars = h("div", { class: "layers", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Pull");
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, "Pull an image of your own"),
    field("Image reference", reference, "Private to you; pulling costs credits per MiB when the operator charges for it."),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
    bars,
  );
  whenSent(form, button, async () => {
    bars.replaceChildren();
    const last = await pullWithProgress(reference.value.trim(), bars);
    if (last && last.type === "error") throw Object.assign(new Error(last.error.message), { field: last.error.field });
    reference.value = "";
    await Promise.all([draw(), refreshBalance()]);
  });
  await draw();
  return h(
    "section",
    {},
    h("h1", {}, "Images"),
    message,
    h("div", { class: "table-wrap" }, h("table", { class: "list", id: "images" }, h("thead", {}, h("tr", {}, ["Image", "Whose", "Size", "Ports", "Recorded", "Actions"].map((t) => h("th", { scope: "col" }, t)))), rows)),
    form,
  );
}
