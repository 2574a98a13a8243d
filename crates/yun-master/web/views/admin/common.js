// What the operator's pages share: a table from rows, a pager over `next_cursor`, and a
// button that runs an action and reports a refusal.

import { h } from "../../dom.js";

export function table(id, headings, rows) {
  // On a narrow screen each row is a card without the heading row: each cell names itself.
  for (const tr of rows.filter(Boolean)) {
    [...tr.children].forEach((cell, i) => {
      if (cell.tagName === "TD" && headings[i] && headings[i] !== "Actions") cell.dataset.label ??= headings[i];
    });
  }
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "list", id }, h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)),
  );
}

/** Links to the first and the next page of a list at `path`. */
export function pager(path, cursor, next) {
  const sep = path.includes("?") ? "&" : "?";
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    cursor ? h("a", { href: path }, "First page") : null,
    next ? h("a", { href: `${path}${sep}cursor=${encodeURIComponent(next)}`, rel: "next" }, "Next page") : null,
  );
}

/** A button that runs `run`; a refusal goes to `report`, success to `done`. */
export function action(label, name, run, done, report, danger = false) {
  return h(
    "button",
    {
      type: "button",
      class: danger ? "small danger" : "small",
      "aria-label": name,
      onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try {
          await run();
          await done();
        } catch (err) {
          report(err);
        } finally {
          b.disabled = false;
        }
      },
    },
    label,
  );
}

export function head(title, ...rest) {
  return h("div", { class: "page-head" }, h("h1", {}, title), ...rest);
}
