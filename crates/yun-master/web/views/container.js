// One container: what it is and costs, live charts (CPU as a share of the plan, memory used of
// its limit, network and disk rates), and its log followed as it is written. Streams pause
// while the tab is hidden and start fresh when it shows again: old samples are not replayed.

import { api, ApiError, ndjson, socket } from "../api.js";
import { h, replace, credits, bytes, when } from "../dom.js";
import { events } from "../events.js";
import { LineChart } from "../chart.js";
import { ansiLine } from "../ansi.js";
import { badge, endpointLink, powerButtons } from "./containers.js";
import { refreshBalance } from "../balance.js";
import { TerminalView } from "../terminal.js";

/** The most log lines the page keeps; older ones leave as new ones come. */
export const LOG_CAP = 2000;

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function rate(v) {
  return `${bytes(v)}/s`;
}

/** An argument as a shell would need it typed: quoted when it has spaces or quotes. */
function shellWord(arg) {
  return arg === "" || /[\s"'\\$`]/.test(arg) ? JSON.stringify(arg) : arg;
}

/** Variables folded away by default: values are often secrets, and the page may be on a shared screen. */
function environment(env) {
  const entries = Object.entries(env || {});
  if (!entries.length) return "none";
  return h(
    "details",
    { class: "env" },
    h("summary", {}, `${entries.length} ${entries.length === 1 ? "variable" : "variables"}`),
    entries.map(([k, v]) => h("div", {}, h("code", {}, `${k}=${v}`))),
  );
}

function details(c) {
  const row = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  return h(
    "dl",
    { class: "facts" },
    row("State", [badge(c.state), c.status_reason ? h("span", { class: "reason" }, c.status_reason) : null]),
    row("Image", h("code", {}, c.image)),
    row("Command", c.command.length ? h("code", {}, c.command.map(shellWord).join(" ")) : "the image's own"),
    row("Environment", environment(c.env)),
    row("Plan", c.plan),
    row("Node", c.node),
    row("Endpoints", c.ports.length ? c.ports.map((p) => h("div", {}, endpointLink(p), ` → ${p.container_port}/${p.protocol}`)) : "none"),
    row("Price", `${credits(c.billing.price_per_hour)} an hour; deposit ${credits(c.billing.deposit)}`),
    row("Ran", `${duration(c.billing.run_seconds)}, charged ${credits(c.billing.charged)}`),
    row("Restart policy", c.restart_policy.name === "no" ? "never" : `on failure (${c.restart_policy.restarts} of ${c.restart_policy.max_retries})`),
    c.exit_code !== null && c.exit_code !== undefined ? row("Exit code", [String(c.exit_code), c.oom_killed ? h("span", { class: "reason", id: "oom-killed" }, "killed: it used more memory than its plan has") : null]) : null,
    row("Root filesystem", c.read_only ? "read-only (a 64 MiB /tmp is writable)" : "writable"),
    c.expires_at ? row("Removed at", when(c.expires_at)) : null,
    row("Created", when(c.created_at)),
  );
}

/** Live charts from the stats WebSocket, open only while the tab shows. */
function liveCharts(id, onState) {
  const cpu = new LineChart({ title: "CPU (of the plan's)", series: [{ class: "s1" }], max: 100, format: (v) => `${v.toFixed(1)}%` });
  const memory = new LineChart({ title: "Memory", series: [{ class: "s1" }], format: bytes });
  const net = new LineChart({ title: "Network", series: [{ name: "in", class: "s1" }, { name: "out", class: "s2" }], format: rate });
  const disk = new LineChart({ title: "Disk", series: [{ name: "read", class: "s1" }, { name: "write", class: "s2" }], format: rate });
  const limit = h("p", { class: "muted chart-note" });
  let ws = null;
  let prev = null;
  const open = () => {
    if (ws) return;
    prev = null;
    for (const c of [cpu, memory, net, disk]) c.reset();
    ws = socket(`/containers/${encodeURIComponent(id)}/stats`);
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "state") {
        onState(msg);
        return;
      }
      cpu.push(msg.cpu_limit_percent);
      memory.max = msg.memory_limit_bytes || null;
      memory.push(msg.memory_bytes);
      limit.textContent = `Memory ${bytes(msg.memory_bytes)} of ${bytes(msg.memory_limit_bytes)}, ${msg.pids} ${msg.pids === 1 ? "process" : "processes"} (${msg.source}).`;
      if (prev) {
        const dt = Math.max(0.001, (msg.ts - prev.ts) / 1000);
        const per = (k) => Math.max(0, (msg[k] - prev[k]) / dt);
        net.push(per("net_rx_bytes"), per("net_tx_bytes"));
        disk.push(per("blk_read_bytes"), per("blk_write_bytes"));
      }
      prev = msg;
    };
    ws.onclose = () => {
      ws = null;
    };
  };
  const close = () => {
    const w = ws;
    ws = null;
    if (w) w.close();
  };
  const onVisibility = () => (document.hidden ? close() : open());
  document.addEventListener("visibilitychange", onVisibility);
  if (!document.hidden) open();
  const el = h("section", { class: "charts", "aria-label": "Live usage" }, cpu.root, memory.root, net.root, disk.root, limit);
  const stop = () => {
    document.removeEventListener("visibilitychange", onVisibility);
    close();
  };
  return { el, stop };
}

/** The log: the last lines, then followed; it pauses when scrolled up, and keeps LOG_CAP lines. */
function logView(id) {
  const box = h("div", { class: "log", id: "log", tabindex: "0", role: "log", "aria-label": "Log" });
  const status = h("span", { class: "muted", id: "log-status" });
  const resume = h("button", { type: "button", class: "small", hidden: true }, "Resume following");
  const download = h("a", { href: `/api/v1/containers/${encodeURIComponent(id)}/logs?download=1`, download: "" }, "Download the whole log");
  const tail = h(
    "select",
    { name: "tail", "aria-label": "Lines to start from" },
    h("option", { value: "200" }, "Last 200 lines"),
    h("option", { value: "1000" }, "Last 1,000 lines"),
    h("option", { value: "all" }, `All (the page keeps the last ${LOG_CAP.toLocaleString("en-US")})`),
  );
  tail.addEventListener("change", () => {
    stop();
    box.replaceChildren();
    following = true;
    held = 0;
    resume.hidden = true;
    start();
  });
  let following = true;
  let held = 0;
  let controller = null;
  // Lines wait here for the next frame, so a burst costs one layout, not one a chunk; only the
  // newest LOG_CAP of them are ever made into elements.
  let queue = [];
  let frame = 0;
  const atBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight < 8;
  const pause = () => {
    following = false;
  };
  // Only the reader pauses the follow (scrolling up, keys, the scrollbar); trimming old lines
  // moves the scroll position too, and must not.
  box.addEventListener("wheel", (e) => e.deltaY < 0 && pause(), { passive: true });
  box.addEventListener("touchmove", pause, { passive: true });
  box.addEventListener("pointerdown", (e) => e.offsetX > box.clientWidth && pause());
  box.addEventListener("keydown", (e) => ["ArrowUp", "PageUp", "Home"].includes(e.key) && pause());
  box.addEventListener("scroll", () => {
    if (!following && atBottom()) {
      following = true;
      held = 0;
      resume.hidden = true;
    }
  });
  resume.addEventListener("click", () => {
    following = true;
    held = 0;
    resume.hidden = true;
    box.scrollTop = box.scrollHeight;
  });
  const flush = () => {
    frame = 0;
    const lines = queue;
    queue = [];
    const frag = document.createDocumentFragment();
    for (const l of lines) {
      const div = document.createElement("div");
      div.className = l.stream === "stderr" ? "line err" : "line";
      div.append(...ansiLine(l.line));
      frag.append(div);
    }
    box.append(frag);
    let extra = box.childElementCount - LOG_CAP;
    while (extra-- > 0) box.firstElementChild.remove();
    if (following) box.scrollTop = box.scrollHeight;
    else {
      resume.hidden = false;
      resume.textContent = `Resume following (${held} new)`;
    }
  };
  const add = (lines) => {
    if (!following) held += lines.length;
    queue.push(...lines);
    if (queue.length > LOG_CAP) queue = queue.slice(-LOG_CAP);
    if (!frame) frame = requestAnimationFrame(flush);
  };
  const start = async () => {
    controller = new AbortController();
    status.textContent = "following";
    try {
      const path = `/containers/${encodeURIComponent(id)}/logs?tail=${tail.value}&follow=true&format=ndjson`;
      for await (const lines of ndjson("GET", path, undefined, controller.signal)) add(lines);
      status.textContent = "the log ended (the container stopped)";
    } catch (e) {
      if (e instanceof ApiError) status.textContent = e.message;
      else if (e.name !== "AbortError" && controller && !controller.signal.aborted) status.textContent = "the log stream broke off; reload to follow again";
    }
  };
  const stop = () => {
    if (controller) controller.abort();
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    queue = [];
  };
  const el = h("section", { class: "logs" }, h("div", { class: "section-head" }, h("h2", {}, "Log"), tail, status, resume, download), box);
  return { el, start, stop };
}

const NOT_OPENED = "the terminal could not start: ";

/** A console that could not open says why in the renter's words; one that broke off says so. */
function consoleError(error) {
  if (error.startsWith(NOT_OPENED)) return `The console could not open: ${error.slice(NOT_OPENED.length)}`;
  return `The console broke off: ${error}`;
}

/** The console: a command (a shell by default) in the running container, in a terminal. */
function consoleView(id) {
  const command = h("input", { name: "console-command", value: "/bin/sh", spellcheck: "false", autocapitalize: "none", "aria-label": "Command to run in the console" });
  const open = h("button", { type: "submit", class: "small" }, "Open the console");
  const closeButton = h("button", { type: "button", class: "small", hidden: true }, "Close");
  const status = h("span", { class: "muted", id: "console-status", role: "status" });
  const screen = h("div", { id: "terminal", hidden: true });
  let view = null;
  const close = () => {
    if (view) view.close();
    view = null;
    closeButton.hidden = true;
    open.disabled = false;
  };
  const form = h("form", { class: "inline console-form" }, command, open, closeButton, status);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    close();
    screen.hidden = false;
    status.textContent = "";
    open.disabled = true;
    closeButton.hidden = false;
    const args = command.value.trim().split(/\s+/).filter(Boolean);
    const q = new URLSearchParams(args.map((a) => ["command", a]));
    view = new TerminalView(screen, `/containers/${encodeURIComponent(id)}/terminal?${q}`, (code, error) => {
      status.textContent = error ? consoleError(error) : `The command exited with ${code}.`;
      // Nothing ran: no empty screen under the reason.
      if (error && error.startsWith(NOT_OPENED)) screen.hidden = true;
      status.dataset.exit = code === null ? "" : String(code);
      open.disabled = false;
      closeButton.hidden = true;
    });
    screen.focus();
  });
  closeButton.addEventListener("click", close);
  const el = h("section", { class: "console" }, h("div", { class: "section-head" }, h("h2", {}, "Console")), form, screen);
  return { el, stop: close };
}

export async function containerPage(ctx) {
  const id = decodeURIComponent(ctx.match[1]);
  let c;
  try {
    c = (await api("GET", `/containers/${encodeURIComponent(id)}`)).container;
  } catch (e) {
    if (e.status === 404) {
      document.title = "Not found · yun";
      return h("section", {}, h("h1", {}, "No such container"), h("p", {}, "It does not exist, or it is not yours. ", h("a", { href: "/containers" }, "Your containers")));
    }
    throw e;
  }
  document.title = `${c.name} · yun`;
  const message = h("p", { class: "form-error", role: "alert" });
  const facts = h("div", {}, details(c));
  const buttons = h("div", {});
  const heading = h("h1", {}, c.name);
  const redraw = async () => {
    c = (await api("GET", `/containers/${encodeURIComponent(id)}`)).container;
    replace(facts, details(c));
    replace(buttons, powerButtons(c, after, report));
  };
  const report = (err) => {
    message.textContent = err.message;
  };
  const after = async (verb) => {
    message.textContent = "";
    if (verb === "remove") {
      await refreshBalance();
      ctx.go("/containers");
      return;
    }
    await redraw();
  };
  replace(buttons, powerButtons(c, after, report));
  const charts = liveCharts(id, () => {});
  const log = logView(id);
  const terminal = consoleView(id);
  ctx.onLeave(charts.stop);
  ctx.onLeave(log.stop);
  ctx.onLeave(terminal.stop);
  ctx.onLeave(
    events.subscribe((ev) => {
      if (ev.container_id !== id) return;
      if (ev.state === "removed") {
        ctx.go("/containers");
        return;
      }
      redraw().catch(report);
    }),
  );
  log.start();
  return h(
    "section",
    { class: "container-page", "data-id": c.id },
    h("p", { class: "crumbs" }, h("a", { href: "/containers" }, "Containers"), " / ", c.name),
    h("div", { class: "page-head" }, heading, buttons),
    message,
    h("div", { class: "split" }, h("div", { class: "card" }, facts), charts.el),
    terminal.el,
    log.el,
  );
}
