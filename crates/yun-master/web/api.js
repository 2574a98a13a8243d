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

/** A WebSocket on an API path (same origin, so the cookie and Origin go with it). */
export function socket(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${scheme}//${location.host}/api/v1${path}`);
}
