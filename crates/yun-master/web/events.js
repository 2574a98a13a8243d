// One live event stream per tab (`GET /api/v1/events`), shared by every page that shows
// containers: pages subscribe instead of polling. It reconnects after a drop, resuming after
// the last event seen so nothing is missed, and pauses while the tab is hidden.

import { socket } from "./api.js";

class Events {
  /** `all`: every user's containers (operators only). */
  constructor(all) {
    this.all = all;
    this.listeners = new Set();
    this.ws = null;
    this.lastSeq = null;
    this.retry = 1000;
    this.wanted = false;
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.close();
      else if (this.wanted) this.open();
    });
  }

  /** Calls `fn(event)` for each container event until the returned function is called. */
  subscribe(fn) {
    this.listeners.add(fn);
    this.wanted = true;
    if (!this.ws && !document.hidden) this.open();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  open() {
    const q = new URLSearchParams();
    if (this.all) q.set("all", "true");
    if (this.lastSeq !== null) q.set("since", String(this.lastSeq));
    const ws = socket(`/events${q.toString() ? `?${q}` : ""}`);
    this.ws = ws;
    ws.onmessage = (m) => {
      const event = JSON.parse(m.data);
      this.lastSeq = event.seq;
      this.retry = 1000;
      for (const fn of this.listeners) fn(event);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.wanted && !document.hidden) {
        setTimeout(() => this.wanted && !this.ws && !document.hidden && this.open(), this.retry);
        this.retry = Math.min(this.retry * 2, 30000);
      }
    };
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }

  stop() {
    this.wanted = false;
    this.listeners.clear();
    this.close();
  }
}

export const events = new Events(false);
export const allEvents = new Events(true);
