/**
 * The status page's server-side first paint without a browser: every string from the network
 * is escaped (names, UIDs, addresses, reasons, events), the template's placeholders are filled,
 * and with the token missing the page shows the token form and no data.
 */

import assert from "node:assert/strict";
import html from "../lib/api/page/index.html" with { type: "text" };
import { escapeHtml, type PageState, renderPage } from "../lib/api/page_render.ts";
import type { CameraDocument } from "../lib/api/routes.ts";
import type { StatusDocument } from "../lib/api/status.ts";

const HOSTILE = `<img src=x onerror=alert(1)>"'&$&$1`;
const NOW = Date.parse("2026-12-06T06:00:00Z");

const status: StatusDocument = {
  version: "1.2.3",
  started_at: "2026-12-06T05:00:00.000Z",
  uptime_s: 3600,
  listeners: [
    { name: "api", protocol: "http", state: "up", address: "127.0.0.1:9899", reason: null },
    { name: "dns", protocol: "udp+tcp", state: "disabled", address: null, reason: HOSTILE },
  ],
  receive_buffers: [],
  mqtt: { state: "off", broker: null, error: null },
  state_dir: "/tmp/state",
  cameras: { fresh: 1, stale: 0, never_seen: 0 },
  last_packet: null,
  advertised_addresses: [],
};

const camera: CameraDocument = {
  uid: HOSTILE,
  name: HOSTILE,
  state: "fresh",
  address: { ip: HOSTILE, port: 1 },
  first_seen: "2026-12-06T05:59:00.000Z",
  last_heartbeat: "2026-12-06T05:59:50.000Z",
  age_ms: 10_000,
  fresh: true,
  wakes: 2,
  wakes_last_hour: 1,
  wake_budget: 3,
  last_wake: null,
  last_motion: null,
};

const state: PageState = {
  status,
  cameras: [camera],
  events: [
    { type: "motion", uid: HOSTILE, name: HOSTILE, motion: true, at: "2026-12-06T05:59:58.000Z" },
    { type: "registered", uid: HOSTILE, name: null, address: HOSTILE, at: "2026-12-06T05:59:00Z" },
  ],
  needsToken: false,
  now: NOW,
};

Deno.test("page render: every string from the network is escaped, never markup", () => {
  const page = renderPage(html, state);
  assert.ok(!page.includes("<img"), "no tag from the data");
  assert.ok(!page.includes(HOSTILE), "not verbatim anywhere");
  const escaped = escapeHtml(HOSTILE);
  assert.equal(escaped, "&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#38;$&#38;$1");
  // Name, UID (cell and data-uid), address (cell and title), the Wake label, the reason, and
  // the events' "who" and text.
  assert.ok(page.split(escaped).length - 1 >= 9, "each string is shown, escaped");
  assert.match(page, /<span class="badge motion">motion<\/span><span class="sub">last 2 s ago/);
  assert.match(page, /<td data-label="Last heartbeat"><span>10 s ago<\/span>/);
  assert.match(page, /<span>1 \/ 3<\/span><span class="sub">2 in all<\/span>/);
  assert.match(page, /<dd id="uptime">1 h 0 min<\/dd>/);
  assert.match(page, /<span id="version" class="muted">v1\.2\.3<\/span>/);
  assert.match(page, /data-live="off">snapshot of 06:00:00 UTC</);
  assert.match(page, /<span id="camera-count" class="muted">\(1\)<\/span>/);
  assert.match(page, /<section id="token-panel"[^>]* hidden/);
  assert.match(page, /<p id="no-events"[^>]* hidden/);
  assert.match(page, /<p id="no-cameras"[^>]* hidden/);
  assert.match(page, /<time datetime="2026-12-06T05:59:58.000Z">05:59:58 UTC<\/time>/);
});

Deno.test("page render: without the token, the token form and no data", () => {
  const page = renderPage(html, {
    status: null,
    cameras: null,
    events: null,
    needsToken: true,
    now: NOW,
  });
  assert.doesNotMatch(page, /<section id="token-panel"[^>]* hidden/);
  assert.match(page, /data-live="off">needs the API token</);
  assert.match(page, /<tbody id="camera-rows"><\/tbody>/);
  assert.match(page, /<dd id="uptime">–<\/dd>/);
  assert.match(page, /<p id="no-events" class="muted">Nothing yet\.<\/p>/);
});

Deno.test("page render: no cameras and no events say so", () => {
  const page = renderPage(html, { ...state, cameras: [], events: [] });
  assert.doesNotMatch(page, /<p id="no-cameras"[^>]* hidden/);
  assert.match(page, /<p id="no-events" class="muted">Nothing yet\.<\/p>/);
  assert.match(page, /\(0\)/);
});

Deno.test("page render: the drain warning in words, its requester escaped, the row marked", () => {
  const drained = { ...camera, drain: [{ requester: HOSTILE, wakes: 48, threshold: 24 }] };
  const page = renderPage(html, { ...state, cameras: [drained, { ...camera, uid: "QUIET" }] });
  assert.ok(!page.includes("<img"), "no tag from the data");
  assert.ok(
    page.includes(
      `<p class="drain">Battery drain: ${escapeHtml(HOSTILE)} woke it 48 times in 24 h ` +
        `(more than 24)</p>`,
    ),
  );
  assert.match(page, /<tr data-uid="[^"]*" class="draining">/);
  assert.match(page, /<tr data-uid="QUIET"><th/);
  assert.match(page, /<td data-label="Last 24 hours" class="history"><div class="drains"><\/div>/);
});
