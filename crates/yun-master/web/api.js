// The console's only way to the master: the documented API under /api/v1, with the session
// cookie (never a token in the page).

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
  }
}

/** Calls the API; answers the parsed body (null for 204) or throws an ApiError. */
export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, "unreachable", "The master cannot be reached; check your connection and try again.");
  }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    throw new ApiError(resp.status, "unreadable", `The master answered HTTP ${resp.status} with a body the console cannot read.`);
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || "unknown", e.message || `HTTP ${resp.status}`, e.field, resp.headers.get("retry-after"));
  }
  return data;
}

/** Reads an API path that answers NDJSON as it goes (a pull's progress, a followed log):
 *  yields the events of each chunk that arrives, as an array; throws an ApiError for a
 *  refusal. `signal` (an AbortController's) ends it. */
export async function* ndjson(method, path, body, signal) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/x-ndjson" }, signal };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(`/api/v1${path}`, init);
  if (!resp.ok) {
    const data = await resp.json().catch(() => ({}));
    const e = data.error || {};
    throw new ApiError(resp.status, e.code || "unknown", e.message || `HTTP ${resp.status}`, e.field, resp.headers.get("retry-after"));
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    rest += decoder.decode(value, { stream: true });
    const lines = rest.split("\n");
    rest = lines.pop();
    const events = lines.filter(Boolean).map((line) => JSON.parse(line));
    if (events.length) yield events;
  }
}

/** A WebSocket on an API path (same origin, so the cookie and Origin go with it). */
export function socket(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${scheme}//${location.host}/api/v1${path}`);
}
