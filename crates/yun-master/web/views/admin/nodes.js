// The fleet: each node's state, capacity against what is allocated, containers, the age of its
// last heartbeat, the master's calls to it (and the last that failed) and the limits its engine
// cannot enforce; cordon, uncordon and forget; join tokens for new hosts.

import { api } from "../../api.js";
import { h, replace, bytes } from "../../dom.js";
import { allEvents } from "../../events.js";
import { table, action, head } from "./common.js";
import { joinTokens } from "./jointokens.js";
import { confirmDialog } from "../dialog.js";

function bar(label, used, total, format) {
  const share = total > 0 ? Math.min(1, used / total) : 0;
  const meter = h("meter", { min: 0, max: 1, value: share.toFixed(3), "aria-label": label });
  return h("div", { class: "usage" }, meter, h("span", {}, `${format(used)} of ${format(total)}`));
}

function age(rfc3339) {
  if (!rfc3339) return "never";
  const s = Math.max(0, Math.round((Date.now() - new Date(rfc3339).getTime()) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

/** The master's calls to a node: how many, how many failed, and the last failure. */
function calls(n) {
  const c = n.calls;
  const last = c.last_failure;
  return [
    String(c.total),
    c.failed ? h("div", { class: "warn" }, `${c.failed} failed`) : h("div", { class: "muted" }, "none failed"),
    last ? h("div", { class: "muted", "data-last-failure": last.method }, `last: ${last.method} (${last.outcome}), ${age(last.at)}`) : null,
  ];
}

/** The limits whose absence makes a node refuse containers (disk is checked by the master). */
function refusing(n) {
  return n.unenforced_limits.filter((l) => l !== "disk");
}

export async function nodesPage(ctx) {
  document.title = "Nodes · yun";
  const message = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  const report = (e) => {
    message.textContent = e.message;
  };
  const cores = (m) => `${(m / 1000).toFixed(1)} CPU`;
  let tokens = null;
  const forget = async (n) => {
    const sure = await confirmDialog(`Forget ${n.name}?`, `${n.name}'s certificates are revoked at once and it cannot come back without a new join token. Its lost containers are removed, and their owners get their deposits and unused time back.`, "Forget");
    if (sure) await api("POST", `/admin/nodes/${encodeURIComponent(n.id)}/forget`);
  };
  const draw = async () => {
    const fleet = await api("GET", "/admin/nodes?limit=200");
    tokens ??= joinTokens(fleet.ca_digest, report);
    replace(
      body,
      h("p", { class: "muted" }, `Cluster ${fleet.cluster_id}; heartbeats every ${fleet.heartbeat_interval_ms / 1000} s.`),
      fleet.insecure_plaintext ? h("p", { class: "warn" }, "The fleet runs without TLS (--insecure-plaintext): anyone who can reach the RPC ports can command it.") : null,
      table(
        "nodes",
        ["Node", "State", "CPU", "Memory", "Containers", "Heartbeat", "Calls", "Notes", "Actions"],
        fleet.nodes.map((n) =>
          h(
            "tr",
            { "data-node": n.name },
            h("th", { scope: "row" }, n.name, h("div", { class: "muted" }, h("code", {}, n.advertise))),
            h("td", {}, h("span", { class: `badge node-${n.state}`, "data-state": n.state }, n.state)),
            h("td", {}, bar(`CPU allocated on ${n.name}`, n.allocated.cpu_millis, n.capacity.cpu_millis, cores)),
            h("td", {}, bar(`Memory allocated on ${n.name}`, n.allocated.memory_bytes, n.capacity.memory_bytes, bytes)),
            h("td", {}, String(n.containers), n.reported_containers !== null && n.reported_containers !== n.containers ? h("div", { class: "muted" }, `node reports ${n.reported_containers}`) : null),
            h("td", { "data-heartbeat": n.last_heartbeat || "" }, age(n.last_heartbeat)),
            h("td", { "data-calls": String(n.calls.total), title: "The master's calls to this node since it registered" }, ...calls(n)),
            h(
              "td",
              {},
              `ports ${n.port_range} on ${n.public_host}`,
              // Disk the master measures itself; only the other limits are a warning.
              refusing(n).length ? h("div", { class: "warn" }, `cannot enforce: ${refusing(n).join(", ")}`) : null,
              n.unenforced_limits.includes("disk") ? h("div", { class: "muted" }, "disk: measured by the master, which stops a container over its plan's") : null,
              n.public_host_is_console ? h("div", { class: "warn" }, "its public host is the console's: give one another name") : null,
              n.certificate_expires_at ? h("div", { class: "muted" }, `certificate until ${new Date(n.certificate_expires_at).toLocaleString()}`) : null,
            ),
            h(
              "td",
              {},
              n.state === "cordoned"
                ? action("Uncordon", `Uncordon ${n.name}`, () => api("POST", `/admin/nodes/${encodeURIComponent(n.id)}/uncordon`), draw, report)
                : action("Cordon", `Cordon ${n.name}`, () => api("POST", `/admin/nodes/${encodeURIComponent(n.id)}/cordon`), draw, report),
              n.state === "down" ? action("Forget", `Forget ${n.name}`, () => forget(n), draw, report, true) : null,
            ),
          ),
        ),
      ),
    );
  };
  await draw();
  // Heartbeat ages tick here, without asking the master.
  const ticker = setInterval(() => {
    for (const td of body.querySelectorAll("[data-heartbeat]")) td.textContent = age(td.dataset.heartbeat);
  }, 1000);
  // Allocations and counts move with containers: the fleet is read again when one changes
  // (at most once a second). A node's own state (a missed heartbeat) has no event, so it is
  // also read every 30 s while the page shows.
  let soon = null;
  const unsubscribe = allEvents.subscribe(() => {
    soon ??= setTimeout(() => {
      soon = null;
      draw().catch(report);
    }, 1000);
  });
  const timer = setInterval(() => !document.hidden && draw().catch(report), 30000);
  ctx.onLeave(() => {
    clearInterval(ticker);
    clearInterval(timer);
    clearTimeout(soon);
    unsubscribe();
  });
  return h("section", {}, head("Nodes"), message, body, tokens);
}
