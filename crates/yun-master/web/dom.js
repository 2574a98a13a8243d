// Building the page: every string becomes a text node, never markup, so renters' text (names,
// logs, environment values) is always shown as text.

/** An element with attributes, handlers (`on…`) and children (strings, nodes, arrays, null). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Credits with thousands separators (money is integer minor units). */
export function credits(n) {
  const v = Number(n);
  return `${v.toLocaleString("en-US")} ${v === 1 || v === -1 ? "credit" : "credits"}`;
}

export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function when(rfc3339) {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  return d.toLocaleString();
}

/** A labelled form field; `input` is the control, `hint` a line under it. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  input.setAttribute("aria-describedby", `${id}-error`);
  return h(
    "div",
    { class: "field", "data-field": input.name || "" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint" }, hint) : null,
    error,
  );
}

/** Shows a refusal beside the field it names, or in the form's own message area. */
export function showError(form, err) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  const general = form.querySelector(".form-error");
  const name = err.field ? err.field.split(/[.[]/)[0] : "";
  const slot = name && form.querySelector(`.field[data-field="${CSS.escape(name)}"] .field-error`);
  if (slot) {
    slot.textContent = err.message;
    if (general) general.textContent = "";
  } else if (general) {
    general.textContent = err.message;
  }
}

/** Runs `work` when `form` is sent: `button` waits meanwhile, and a refusal is shown at its
 * field (or in the form's message area). */
export function whenSent(form, button, work) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await work();
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
    }
  });
}
