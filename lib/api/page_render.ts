/**
 * The status page's first paint, rendered on the server: the HTML template filled with the
 * status, the cameras and the recent events, in the same markup and words the page's script
 * uses (`page/format.js` is shared), so the page is true before its script runs and reads
 * without JavaScript. Every string from the network (UIDs, names, addresses, reasons) is
 * HTML-escaped here; nothing is trusted.
 */

import type { CameraDocument } from "./routes.ts";
import type { StatusDocument } from "./status.ts";
import {
  ago,
  drainText,
  duration,
  eventText,
  hostPort,
  listenerItems,
  STATE_LABELS,
  wakesText,
} from "./page/format.js";

/** One event as `GET /api/events` lists it (the fields the page shows). */
export interface PageEvent {
  type: string;
  uid: string;
  name: string | null;
  /** ISO 8601 time. */
  at: string;
  motion?: boolean;
  source?: string;
  result?: string;
  address?: string;
}

/**
 * A camera of `GET /api/cameras`, with the requesters that woke it more than the drain
 * threshold in 24 hours when the server keeps a history.
 */
export type PageCamera = CameraDocument & {
  drain?: { requester: string; wakes: number; threshold: number }[];
};

/** What the first paint shows; null where the API would not tell (no token yet). */
export interface PageState {
  status: StatusDocument | null;
  cameras: PageCamera[] | null;
  /** Newest first. */
  events: PageEvent[] | null;
  /** The API asked for its token: the page shows the token form. */
  needsToken: boolean;
  /** When the state was read, ms since the epoch. */
  now: number;
}

/** `text` safe as HTML text and as a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page: `template` (index.html, the page as its script finds it empty) with the elements
 * the script fills filled from `state`, found by their id.
 */
export function renderPage(template: string, state: PageState): string {
  const { status, cameras, events } = state;
  const motion = motionByUid(events ?? []);
  let html = template;
  if (status) {
    html = fill(html, "version", escapeHtml(`v${status.version}`));
    html = fill(html, "uptime", escapeHtml(duration(status.uptime_s)));
    html = fill(html, "listeners", listenerItems(status).map(listenerHtml).join(""));
  }
  html = fill(
    html,
    "live",
    escapeHtml(state.needsToken ? "needs the API token" : `snapshot of ${utcClock(state.now)}`),
  );
  html = show(html, "token-panel", state.needsToken);
  if (cameras) {
    html = fill(html, "camera-count", `(${cameras.length})`);
    html = show(html, "no-cameras", cameras.length === 0);
    html = fill(
      html,
      "camera-rows",
      cameras.map((camera) => cameraHtml(camera, motion, state.now)).join(""),
    );
  }
  if (events && events.length > 0) {
    html = fill(html, "events", events.map(eventHtml).join(""));
    html = show(html, "no-events", false);
  }
  return html;
}

/** The template with the content of the element `id="id"` replaced by `content` (HTML). */
function fill(html: string, id: string, content: string): string {
  const element = new RegExp(`(<(\\w+)[^>]* id="${id}"[^>]*>)[^]*?(</\\2>)`);
  if (!element.test(html)) throw new Error(`the page template has no element id="${id}"`);
  return html.replace(
    element,
    (_, open: string, _tag: string, close: string) => open + content + close,
  );
}

/** The template with the element `id="id"` shown or hidden (its `hidden` attribute). */
function show(html: string, id: string, shown: boolean): string {
  const tag = new RegExp(`<\\w+[^>]* id="${id}"[^>]*>`);
  const open = tag.exec(html)?.[0];
  if (open === undefined) throw new Error(`the page template has no element id="${id}"`);
  const bare = open.replace(/ hidden(?=[ >])/, "");
  return html.replace(open, () => shown ? bare : bare.replace(/>$/, " hidden>"));
}

/** Each camera's motion as the events leave it: on or off, and when (the newest event wins). */
function motionByUid(events: readonly PageEvent[]): Map<string, { on: boolean; at: string }> {
  const motion = new Map<string, { on: boolean; at: string }>();
  for (const event of events) {
    if (event.type === "motion" && !motion.has(event.uid)) {
      motion.set(event.uid, { on: event.motion === true, at: event.at });
    }
  }
  return motion;
}

function listenerHtml(item: ReturnType<typeof listenerItems>[number]): string {
  const detail = item.detail ? `<span class="detail">${escapeHtml(item.detail)}</span>` : "";
  return `<li><strong>${escapeHtml(item.name)}</strong>` +
    `<span class="muted">${escapeHtml(item.kind)}</span>` +
    `<span class="badge ${escapeHtml(item.state)}">${escapeHtml(item.state)}</span>${detail}</li>`;
}

/** A camera row in the markup the page's script builds (it adopts these rows as they are). */
function cameraHtml(
  camera: PageCamera,
  motion: Map<string, { on: boolean; at: string }>,
  now: number,
): string {
  const uid = escapeHtml(camera.uid);
  const address = escapeHtml(camera.address ? hostPort(camera.address) : "—");
  const state = escapeHtml(STATE_LABELS[camera.state] ?? camera.state);
  const seen = motion.get(camera.uid);
  const lastMotion = seen && (!camera.last_motion || seen.at > camera.last_motion)
    ? seen.at
    : camera.last_motion;
  const motionAgo = lastMotion ? `last ${ago(now - Date.parse(lastMotion))}` : "never";
  const on = seen?.on === true;
  const drains = (camera.drain ?? []).map((drain) =>
    `<p class="drain">${escapeHtml(drainText(drain))}</p>`
  );
  return `<tr data-uid="${uid}"${drains.length > 0 ? ' class="draining"' : ""}>` +
    `<th scope="row"><span class="name">${escapeHtml(camera.name ?? "(unnamed)")}</span>` +
    `<span class="uid">${uid}</span></th>` +
    `<td data-label="Address"><span class="address" title="${address}">${address}</span></td>` +
    `<td data-label="State"><span class="badge ${escapeHtml(camera.state)}">${state}</span></td>` +
    `<td data-label="Last heartbeat"><span>${escapeHtml(ago(camera.age_ms))}</span></td>` +
    `<td data-label="Motion"><span class="badge ${on ? "motion" : "idle"}">` +
    `${on ? "motion" : "idle"}</span><span class="sub">${escapeHtml(motionAgo)}</span></td>` +
    `<td data-label="Wakes, last hour"><span>${escapeHtml(wakesText(camera))}</span>` +
    `<span class="sub">${camera.wakes} in all</span></td>` +
    // The script draws the 24-hour strip below the drain warnings.
    `<td data-label="Last 24 hours" class="history"><div class="drains">${drains.join("")}</div>` +
    `</td>` +
    // Disabled until the script runs: without it the button could not wake anything.
    `<td class="action"><button type="button" aria-label="${
      escapeHtml(`Wake ${camera.name ?? camera.uid}`)
    }" disabled>Wake</button><span class="result" role="status"></span></td></tr>`;
}

/** An event in the markup the page's script builds; `data-key` lets it tell it has it. */
function eventHtml(event: PageEvent): string {
  const at = escapeHtml(event.at);
  return `<li data-type="${escapeHtml(event.type)}" data-key="${
    escapeHtml(JSON.stringify(event))
  }" data-at="${at}"><time datetime="${at}">${escapeHtml(utcClock(Date.parse(event.at)))}</time>` +
    `<span class="who">${escapeHtml(event.name ?? event.uid)}</span>` +
    `<span class="what">${escapeHtml(eventText(event))}</span></li>`;
}

/** "14:03:27 UTC" (the browser's script shows its own local time instead). */
function utcClock(ms: number): string {
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(11, 19)} UTC` : "";
}
