// How the status page words its data, shared by the server (which renders the first paint) and
// the page's script (which keeps it live), so both write the same text. Plain functions of the
// API's JSON documents; no DOM.

/** What each wake result is called on the page. */
export const WAKE_RESULTS = {
  started: "Wake started",
  in_flight: "Already waking",
  over_budget: "Refused (budget)",
  not_registered: "Not registered",
};

/** What each camera state is called on the page. */
export const STATE_LABELS = { fresh: "fresh", stale: "stale", never_seen: "never seen" };

/**
 * "12 s ago", "3 min ago", ...; "never" for null.
 * @param {number | null} ms
 * @returns {string}
 */
export function ago(ms) {
  if (ms === null || !Number.isFinite(ms)) return "never";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * "2 d 3 h", "4 min 5 s", ...
 * @param {number} totalSeconds
 * @returns {string}
 */
export function duration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/**
 * "ip:port", IPv6 in brackets.
 * @param {{ ip: string, port: number }} address
 * @returns {string}
 */
export function hostPort(address) {
  return address.ip.includes(":")
    ? `[${address.ip}]:${address.port}`
    : `${address.ip}:${address.port}`;
}

/**
 * The listeners line of the header: each listener of /api/status, then the MQTT bridge.
 * @param {{ listeners: { name: string, protocol: string, state: string, address: string | null,
 *   reason: string | null }[], mqtt: { state: string, broker: string | null,
 *   error: string | null } }} status
 * @returns {{ name: string, kind: string, state: string, detail: string | null }[]}
 */
export function listenerItems(status) {
  const items = status.listeners.map((l) => ({
    name: l.name,
    kind: l.protocol,
    state: l.state,
    detail: l.state === "up" ? l.address : l.reason,
  }));
  items.push({
    name: "mqtt",
    kind: "broker",
    state: status.mqtt.state,
    detail: status.mqtt.error ?? status.mqtt.broker ?? "no broker configured",
  });
  return items;
}

/**
 * A camera's "Wakes, last hour" text: "1 / 3", or "2 (no limit)".
 * @param {{ wakes_last_hour: number | null, wake_budget: number | null }} camera
 * @returns {string}
 */
export function wakesText(camera) {
  return camera.wake_budget === null
    ? `${camera.wakes_last_hour ?? "–"} (no limit)`
    : `${camera.wakes_last_hour} / ${camera.wake_budget}`;
}

/**
 * What an event of /api/events says happened.
 * @param {{ type: string, motion?: boolean, source?: string, result?: string,
 *   address?: string }} event
 * @returns {string}
 */
export function eventText(event) {
  switch (event.type) {
    case "motion":
      return event.motion ? "Motion started" : "Motion ended";
    case "wake":
      return `Wake (${event.source}): ${
        WAKE_RESULTS[/** @type {keyof WAKE_RESULTS} */ (event.result)] ?? event.result
      }`;
    case "registered":
      return `Registered from ${event.address}`;
    case "stale":
      return "Went stale: no heartbeat";
    default:
      return event.type;
  }
}

/**
 * The drain warning of one requester in `GET /api/cameras`'s `drain` (text, never colour alone).
 * @param {{ requester: string, wakes: number, threshold: number }} drain
 * @returns {string}
 */
export function drainText(drain) {
  return `Battery drain: ${drain.requester} woke it ${drain.wakes} times in 24 h ` +
    `(more than ${drain.threshold})`;
}
