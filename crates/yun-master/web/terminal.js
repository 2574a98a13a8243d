// The terminal's painter and keyboard. The screen is emulated on the master (the `vt100`
// crate); this draws the rows it sends, and turns keys into the bytes a terminal sends, in
// the modes the emulator says are on (application cursor keys, the keypad, bracketed paste).
// Text is selectable for copying; the wheel scrolls back through the master's scrollback.

import { socket } from "./api.js";

const enc = new TextEncoder();
const ESC = "\x1b";

// The xterm palette's first 16 colours; 16-255 are computed.
const BASE = ["#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
  "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"];

export function paletteColour(spec) {
  if (!spec) return null;
  if (spec.startsWith("#")) return spec;
  const i = Number(spec.slice(1));
  if (i < 16) return BASE[i];
  if (i < 232) {
    const n = i - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(n / 36))}, ${level(Math.floor(n / 6) % 6)}, ${level(n % 6)})`;
  }
  const g = 8 + (i - 232) * 10;
  return `rgb(${g}, ${g}, ${g})`;
}

const CURSOR = { ArrowUp: "A", ArrowDown: "B", ArrowRight: "C", ArrowLeft: "D", Home: "H", End: "F" };
const TILDE = { Insert: "2", Delete: "3", PageUp: "5", PageDown: "6", F5: "15", F6: "17", F7: "18", F8: "19", F9: "20", F10: "21", F11: "23", F12: "24" };
const SS3 = { F1: "P", F2: "Q", F3: "R", F4: "S" };
const KEYPAD = { Numpad0: "p", Numpad1: "q", Numpad2: "r", Numpad3: "s", Numpad4: "t", Numpad5: "u", Numpad6: "v", Numpad7: "w", Numpad8: "x", Numpad9: "y", NumpadDecimal: "n", NumpadAdd: "k", NumpadSubtract: "m", NumpadMultiply: "j", NumpadDivide: "o", NumpadEnter: "M" };

/** The bytes a key press sends, or null when the browser should have it. */
export function keyBytes(e, modes) {
  const mod = 1 + (e.shiftKey ? 1 : 0) + (e.altKey ? 2 : 0) + (e.ctrlKey ? 4 : 0);
  if (modes.application_keypad && KEYPAD[e.code] && !e.ctrlKey && !e.altKey) return `${ESC}O${KEYPAD[e.code]}`;
  if (CURSOR[e.key]) {
    if (mod > 1) return `${ESC}[1;${mod}${CURSOR[e.key]}`;
    return modes.application_cursor ? `${ESC}O${CURSOR[e.key]}` : `${ESC}[${CURSOR[e.key]}`;
  }
  if (TILDE[e.key]) return mod > 1 ? `${ESC}[${TILDE[e.key]};${mod}~` : `${ESC}[${TILDE[e.key]}~`;
  if (SS3[e.key]) return mod > 1 ? `${ESC}[1;${mod}${SS3[e.key]}` : `${ESC}O${SS3[e.key]}`;
  switch (e.key) {
    case "Enter": return e.altKey ? `${ESC}\r` : "\r";
    case "Backspace": return e.altKey ? `${ESC}\x7f` : e.ctrlKey ? "\x08" : "\x7f";
    case "Tab": return e.shiftKey ? `${ESC}[Z` : "\t";
    case "Escape": return ESC;
    default: break;
  }
  if (e.key.length !== 1 || e.metaKey) return null;
  if (e.ctrlKey && !e.altKey) {
    const c = e.key.toLowerCase();
    if (c >= "a" && c <= "z") return String.fromCharCode(c.charCodeAt(0) - 96);
    const special = { " ": "\x00", "@": "\x00", "[": ESC, "\\": "\x1c", "]": "\x1d", "^": "\x1e", "_": "\x1f", "/": "\x1f", "?": "\x7f" };
    return special[e.key] ?? null;
  }
  if (e.ctrlKey && e.altKey) return null; // AltGr on some layouts: the character comes as input
  return e.altKey ? `${ESC}${e.key}` : e.key;
}

/**
 * A terminal for `path` (a `/containers/{id}/terminal?...` WebSocket path) in `el`.
 * `onExit(code)` runs when the command ends.
 */
export class TerminalView {
  constructor(el, path, onExit) {
    this.el = el;
    this.el.classList.add("term");
    this.el.tabIndex = 0;
    this.el.setAttribute("role", "textbox");
    this.el.setAttribute("aria-label", "Terminal");
    this.el.setAttribute("aria-multiline", "true");
    this.screen = document.createElement("div");
    this.screen.className = "term-screen";
    this.cursor = document.createElement("span");
    this.cursor.className = "term-cursor";
    this.el.replaceChildren(this.screen, this.cursor);
    this.rows = [];
    this.modes = {};
    this.scroll = 0;
    this.available = 0;
    this.size = null;
    this.onExit = onExit;
    const cell = this.measure();
    const { cols, rows } = this.fit(cell);
    this.ws = socket(`${path}${path.includes("?") ? "&" : "?"}cols=${cols}&rows=${rows}`);
    this.ws.binaryType = "arraybuffer";
    this.size = { cols, rows };
    this.ws.onmessage = (m) => this.message(JSON.parse(m.data));
    this.ws.onclose = () => this.el.classList.add("closed");
    this.el.addEventListener("keydown", (e) => this.key(e));
    this.el.addEventListener("paste", (e) => this.paste(e));
    this.el.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    this.resizer = new ResizeObserver(() => this.resized());
    this.resizer.observe(this.el);
  }

  /** The size of one cell, from a probe in the terminal's font. */
  measure() {
    const probe = document.createElement("span");
    probe.textContent = "MMMMMMMMMM";
    probe.className = "term-probe";
    this.el.appendChild(probe);
    const r = probe.getBoundingClientRect();
    probe.remove();
    this.cell = { w: r.width / 10 || 8, h: r.height || 17 };
    return this.cell;
  }

  fit(cell) {
    const box = this.el.getBoundingClientRect();
    const cols = Math.max(20, Math.min(500, Math.floor((box.width - 16) / cell.w)));
    const rows = Math.max(5, Math.min(200, Math.floor((box.height - 12) / cell.h)));
    return { cols, rows };
  }

  resized() {
    if (!this.size || this.ws.readyState !== WebSocket.OPEN) return;
    const next = this.fit(this.cell);
    if (next.cols === this.size.cols && next.rows === this.size.rows) return;
    this.size = next;
    this.ws.send(JSON.stringify({ type: "resize", ...next }));
  }

  send(text) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(enc.encode(text));
  }

  key(e) {
    // Copying a selection keeps Ctrl+C (and Ctrl+Shift+C) for the browser.
    const selected = String(window.getSelection() || "").length > 0;
    if (selected && e.ctrlKey && (e.key === "c" || e.key === "C")) return;
    if (e.ctrlKey && e.shiftKey && (e.key === "V" || e.key === "C")) return;
    const bytes = keyBytes(e, this.modes);
    if (bytes === null) return;
    e.preventDefault();
    this.send(bytes);
  }

  paste(e) {
    e.preventDefault();
    const text = (e.clipboardData && e.clipboardData.getData("text")) || "";
    if (!text) return;
    this.send(pasted(text, this.modes.bracketed_paste));
  }

  wheel(e) {
    if (this.modes.alternate_screen) {
      // Full-screen programs scroll with their own keys.
      e.preventDefault();
      this.send(e.deltaY < 0 ? `${ESC}[A` : `${ESC}[B`);
      return;
    }
    const step = Math.max(1, Math.round(Math.abs(e.deltaY) / this.cell.h));
    const next = Math.max(0, Math.min(this.available, this.scroll + (e.deltaY < 0 ? step : -step)));
    if (next === this.scroll) return;
    e.preventDefault();
    this.scroll = next;
    this.ws.send(JSON.stringify({ type: "scroll", offset: next }));
  }

  message(m) {
    if (m.type === "exit") {
      this.onExit(m.exit_code);
      return;
    }
    if (m.type === "error") {
      this.onExit(null, m.message);
      return;
    }
    this.modes = m.modes;
    this.scroll = m.scrollback;
    this.available = m.scrollback_available;
    while (this.rows.length < m.rows) {
      const row = document.createElement("div");
      row.className = "term-row";
      this.screen.appendChild(row);
      this.rows.push(row);
    }
    while (this.rows.length > m.rows) this.rows.pop().remove();
    for (const line of m.lines) this.paintRow(this.rows[line.row], line.spans);
    this.cursor.hidden = !m.cursor.visible;
    this.cursor.style.left = `${8 + m.cursor.col * this.cell.w}px`;
    this.cursor.style.top = `${6 + m.cursor.row * this.cell.h}px`;
    this.cursor.style.width = `${this.cell.w}px`;
    this.cursor.style.height = `${this.cell.h}px`;
    this.el.classList.toggle("scrolled", m.scrollback > 0);
    if (m.title) this.el.setAttribute("aria-label", `Terminal: ${m.title}`);
  }

  paintRow(row, spans) {
    if (!row) return;
    const frag = document.createDocumentFragment();
    for (const s of spans) {
      const span = document.createElement("span");
      span.textContent = s.text;
      let fg = paletteColour(s.fg);
      let bg = paletteColour(s.bg);
      if (s.inverse) [fg, bg] = [bg || "var(--term-bg)", fg || "var(--term-fg)"];
      if (fg) span.style.color = fg;
      if (bg) span.style.backgroundColor = bg;
      if (s.bold) span.classList.add("b");
      if (s.italic) span.classList.add("i");
      if (s.underline) span.classList.add("u");
      frag.appendChild(span);
    }
    row.replaceChildren(frag);
  }

  close() {
    this.resizer.disconnect();
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close();
  }
}

/**
 * What a paste sends. Bracketed, the text goes between the paste markers, so a shell takes it
 * as text, not as typed commands; a marker inside the text (a page's hidden `ESC[201~` would
 * end the paste early and run what follows) is removed until none is left.
 */
export function pasted(text, bracketed) {
  let body = text.replace(/\r?\n/g, "\r");
  if (!bracketed) return body;
  for (let before = null; before !== body; ) {
    before = body;
    body = body.replaceAll(`${ESC}[201~`, "").replaceAll(`${ESC}[200~`, "");
  }
  return `${ESC}[200~${body}${ESC}[201~`;
}
