// The public catalog: publish an image (the master has a node pull it and records it by
// content, so every renter's container from it runs what was published) and remove one.

import { api } from "../../api.js";
import { h, replace, bytes, when, field, whenSent } from "../../dom.js";
import { table, action, head } from "./common.js";

export async function catalogPage() {
  document.title = "Catalog · yun";
  const message = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  const report = (e) => {
    message.textContent = e.message;
  };
  const draw = async () => {
    const list = await api("GET", "/images?limit=200");
    const pub = list.images.filter((i) => i.visibility === "public");
    replace(
      body,
      pub.length
        ? table(
            "catalog",
            ["Image", "Size", "Ports", "Published", "Actions"],
            pub.map((i) =>
              h(
                "tr",
                { "data-image": i.reference },
                h("th", { scope: "row" }, h("code", {}, i.reference)),
                h("td", {}, bytes(i.size_bytes)),
                h("td", {}, i.exposed_ports.map((p) => `${p.container_port}/${p.protocol}`).join(", ") || "none"),
                h("td", {}, when(i.created_at)),
                h("td", {}, action("Remove", `Remove ${i.reference} from the catalog`, () => api("DELETE", `/admin/images/${encodeURIComponent(i.id)}`), draw, report, true)),
              ),
            ),
          )
        : h("p", { class: "empty" }, "The catalog is empty: publish an image so renters can run it."),
    );
  };
  const reference = h("input", { name: "reference", required: true, placeholder: "registry/name:tag", spellcheck: "false", autocapitalize: "none" });
  const button = h("button", { type: "submit" }, "Publish");
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "Publish an image"), field("Image reference", reference, "Pulled by a ready node from a registry the image policy allows, unless a node has it already."), h("p", { class: "form-error", role: "alert" }), h("div", { class: "actions" }, button));
  whenSent(form, button, async () => {
    await api("POST", "/admin/images", { reference: reference.value.trim() });
    reference.value = "";
    await draw();
  });
  await draw();
  return h("section", {}, head("Catalog"), message, body, form);
}
