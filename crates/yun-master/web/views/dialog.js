// A confirmation as a modal <dialog>: focus stays inside it and Escape cancels.

import { h } from "../dom.js";

/** Asks; resolves true when `action` is chosen. */
export function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const yes = h("button", { type: "submit", value: "yes", class: "danger" }, action);
    const no = h("button", { type: "submit", value: "no", formnovalidate: true }, "Cancel");
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      h("form", { method: "dialog" }, h("h2", { id: "confirm-title" }, title), h("p", {}, text), h("div", { class: "actions" }, no, yes)),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    no.focus();
  });
}
