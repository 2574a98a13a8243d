// Small live charts drawn as SVG by the page (sizes and colours by attributes and classes, since
// the Content-Security-Policy allows no inline style).

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * A chart of one or two series over the last `span` samples. `format(v)` labels the newest
 * value; `max` fixes the top of the scale (else the largest value shown).
 */
export class LineChart {
  constructor({ title, series, span = 300, max = null, format = (v) => String(v) }) {
    this.series = series; // [{ name, class }]
    this.span = span;
    this.max = max;
    this.format = format;
    this.values = series.map(() => []);
    this.root = document.createElement("figure");
    this.root.className = "chart";
    const caption = document.createElement("figcaption");
    this.heading = document.createElement("span");
    this.heading.textContent = title;
    this.now = document.createElement("span");
    this.now.className = "chart-now";
    caption.append(this.heading, this.now);
    this.svg = svg("svg", { viewBox: "0 0 300 80", preserveAspectRatio: "none", role: "img", "aria-label": title });
    this.svg.append(svg("line", { x1: 0, y1: 79.5, x2: 300, y2: 79.5, class: "axis" }));
    this.paths = series.map((s) => {
      const p = svg("polyline", { class: `line ${s.class}`, fill: "none", "vector-effect": "non-scaling-stroke" });
      this.svg.append(p);
      return p;
    });
    this.root.append(caption, this.svg);
  }

  /** Adds one sample per series (null: no value yet) and redraws. */
  push(...vals) {
    vals.forEach((v, i) => {
      const list = this.values[i];
      list.push(v);
      if (list.length > this.span) list.shift();
    });
    this.draw();
  }

  /** Forgets what was drawn (after a pause the old samples are not replayed). */
  reset() {
    this.values = this.series.map(() => []);
    this.draw();
  }

  draw() {
    const shown = this.values.flat().filter((v) => v !== null);
    const top = this.max ?? Math.max(1, ...shown) * 1.1;
    this.values.forEach((list, i) => {
      const step = 300 / Math.max(1, this.span - 1);
      const offset = this.span - list.length;
      const points = [];
      list.forEach((v, k) => {
        if (v === null) return;
        const x = (offset + k) * step;
        const y = 79 - (Math.min(v, top) / top) * 76;
        points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      });
      this.paths[i].setAttribute("points", points.join(" "));
    });
    const last = this.values.map((l) => l[l.length - 1]).filter((v) => v !== undefined && v !== null);
    const now = last.length ? last.map((v, i) => `${this.series[i].name ? `${this.series[i].name} ` : ""}${this.format(v)}`).join(" · ") : "waiting…";
    // An unchanged label is left alone: writing it would still dirty the layout.
    if (this.now.textContent !== now) this.now.textContent = now;
  }
}
