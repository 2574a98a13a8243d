// Log lines with ANSI colours: SGR codes become spans with classes (never markup from the line).

const COLOURS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

/** A line as a list of text nodes and spans; unknown escape sequences are dropped. */
export function ansiLine(text) {
  const out = [];
  let classes = [];
  const re = /\x1b\[([0-9;]*)m|\x1b\[[0-9;?]*[A-Za-z]/g;
  let last = 0;
  let m;
  const emit = (s) => {
    if (!s) return;
    if (classes.length === 0) {
      out.push(document.createTextNode(s));
    } else {
      const span = document.createElement("span");
      span.className = classes.join(" ");
      span.textContent = s;
      out.push(span);
    }
  };
  while ((m = re.exec(text)) !== null) {
    emit(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[1] === undefined) continue; // not a colour: a cursor move or the like
    const codes = m[1] === "" ? [0] : m[1].split(";").map(Number);
    for (const c of codes) {
      if (c === 0) classes = [];
      else if (c === 1) classes.push("ansi-bold");
      else if (c >= 30 && c <= 37) classes = classes.filter((k) => !k.startsWith("ansi-fg")).concat(`ansi-fg-${COLOURS[c - 30]}`);
      else if (c >= 90 && c <= 97) classes = classes.filter((k) => !k.startsWith("ansi-fg")).concat(`ansi-fg-bright-${COLOURS[c - 90]}`);
      else if (c === 39) classes = classes.filter((k) => !k.startsWith("ansi-fg"));
    }
  }
  emit(text.slice(last));
  return out;
}
