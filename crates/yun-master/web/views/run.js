// Running a container: image, plan (its CPU, memory and price), ports, environment, command,
// lifetime and restart policy, with what it costs shown before anything is committed. A
// refusal is shown beside the field it is about, or above the button with what to do.

import { api } from "../api.js";
import { h, field, showError, credits, bytes } from "../dom.js";
import { refreshBalance } from "../balance.js";

/** `8080`, `8080/udp`, `20080:80`: docker's order, host port first. */
export function parsePorts(text) {
  const ports = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = part.match(/^(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/i);
    if (!m) throw Object.assign(new Error(`'${part}' is not a port: write 8080, 8080/udp or HOST:CONTAINER such as 20080:80.`), { field: "ports" });
    const p = { container_port: Number(m[2]) };
    if (m[1]) p.host_port = Number(m[1]);
    if (m[3]) p.protocol = m[3].toLowerCase();
    ports.push(p);
  }
  return ports;
}

/** `KEY=value` lines. */
export function parseEnv(text) {
  const env = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf("=");
    if (i <= 0) throw Object.assign(new Error(`'${line}' is not KEY=value.`), { field: "env" });
    env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

const LIFETIMES = [
  ["", "Until I remove it"],
  ["3600", "1 hour"],
  ["7200", "2 hours"],
  ["21600", "6 hours"],
  ["86400", "1 day"],
  ["604800", "1 week"],
];

export async function runPage(ctx) {
  document.title = "Run a container · yun";
  const [imageList, planList] = await Promise.all([api("GET", "/images?limit=200"), api("GET", "/plans")]);
  const images = imageList.images;
  const { plans, pricing } = planList;
  const chosen = ctx.params.get("image");

  const image = h(
    "select",
    { name: "image", required: true },
    images.map((i) =>
      h("option", { value: i.reference, selected: i.reference === chosen }, `${i.reference} (${i.visibility === "public" ? "catalog" : "mine"}, ${bytes(i.size_bytes)})`),
    ),
  );
  const plan = h(
    "select",
    { name: "plan" },
    plans.map((p) =>
      h("option", { value: p.name, selected: p.default }, `${p.name}: ${p.cpu} CPU, ${p.memory_mib} MiB memory, ${p.disk_mib} MiB disk, ${credits(p.price_per_hour)}/hour`),
    ),
  );
  const name = h("input", { name: "name", maxlength: 63, placeholder: "chosen for you when empty", autocapitalize: "none", spellcheck: "false" });
  const ports = h("input", { name: "ports", placeholder: "the image's own when empty, e.g. 8080 or 20080:80", spellcheck: "false" });
  const env = h("textarea", { name: "env", rows: 3, placeholder: "KEY=value, one a line", spellcheck: "false" });
  const command = h("textarea", { name: "command", rows: 2, placeholder: "the image's own when empty; one argument a line", spellcheck: "false" });
  const lifetime = h("select", { name: "expires_in" }, LIFETIMES.map(([v, t]) => h("option", { value: v }, t)));
  const restart = h(
    "select",
    { name: "restart_policy" },
    h("option", { value: "no" }, "Never restart it"),
    h("option", { value: "on-failure" }, "Restart it when it fails (up to 5 times)"),
  );
  const readOnly = h("input", { name: "read_only", type: "checkbox", id: "run-read-only" });
  const cost = h("p", { class: "cost", id: "run-cost", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Run");
  const drawCost = () => {
    const p = plans.find((x) => x.name === plan.value);
    if (!p) return;
    const first = Math.ceil((p.price_per_hour * pricing.metering_interval_seconds) / 3600);
    cost.replaceChildren(
      h("strong", {}, `${credits(p.price_per_hour)} an hour`),
      `, metered per second. Running it now takes a deposit of ${credits(pricing.run_deposit)} (back when you remove it) and ${credits(first)} for the first ${pricing.metering_interval_seconds} s; your balance must be at least ${credits(pricing.min_balance_to_run)}.`,
    );
  };
  plan.addEventListener("change", drawCost);
  drawCost();

  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("h1", {}, "Run a container"),
    images.length
      ? null
      : h("p", { class: "notice" }, "There is no image to run yet. Operators publish images in the catalog (Images in the operator's menu, or POST /api/v1/admin/images); you can also pull your own."),
    field("Image", image),
    field("Plan", plan),
    cost,
    field("Name", name, "Lowercase letters, digits and -, unique among your containers."),
    field("Ports", ports, "Container ports to publish; each gets a host port you can reach."),
    field("Environment", env),
    field("Command", command),
    h("div", { class: "row" }, field("Lifetime", lifetime, "Removed at its end; the deposit comes back."), field("Restart policy", restart)),
    h("div", { class: "field check", "data-field": "read_only" }, readOnly, h("label", { for: "run-read-only" }, "Read-only root filesystem"), h("p", { class: "hint" }, "The image's files cannot be changed; a 64 MiB /tmp is the only writable place.")),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const spec = { image: image.value, plan: plan.value };
      if (name.value.trim()) spec.name = name.value.trim();
      if (ports.value.trim()) spec.ports = parsePorts(ports.value);
      if (env.value.trim()) spec.env = parseEnv(env.value);
      const args = command.value.split("\n").map((l) => l.trim()).filter(Boolean);
      if (args.length) spec.command = args;
      if (lifetime.value) spec.expires_in = Number(lifetime.value);
      if (restart.value !== "no") spec.restart_policy = { name: restart.value };
      if (readOnly.checked) spec.read_only = true;
      const made = await api("POST", "/containers", spec);
      await refreshBalance();
      ctx.go(`/containers?made=${encodeURIComponent(made.container.id)}`);
    } catch (err) {
      showError(form, err.retryAfter ? Object.assign(err, { message: `${err.message} (try again in ${err.retryAfter} s)` }) : err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
