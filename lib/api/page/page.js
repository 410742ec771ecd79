// The status page's script: loads /api/status, /api/cameras and /api/events, follows
// /api/events/stream (read with fetch, so the token travels in a header, never in the URL),
// and keeps one table row per camera, keyed by UID and updated in place. Every piece of data
// reaches the page through textContent, never as HTML. The server sends the page already
// filled in (status, cameras, recent events): the script adopts those rows and keeps them live.
// Each camera's 24-hour strip and drain warning are history.js's.

import {
  ago,
  duration,
  eventText,
  hostPort,
  listenerItems,
  STATE_LABELS,
  WAKE_RESULTS,
  wakesText,
} from "./format.js";
import { el, setText } from "./dom.js";
import { HistoryStrips } from "./history.js";

const TOKEN_KEY = "bairelay.token";
/** Status and camera list refresh interval (ages tick every second in between). */
const POLL_MS = 5000;
const TICK_MS = 1000;
/** Events shown in the list (the server keeps more). */
const MAX_EVENTS_SHOWN = 100;
/** Reconnect delays for the event stream: doubling from the first to the last. */
const STREAM_RETRY_FIRST_MS = 1000;
const STREAM_RETRY_MAX_MS = 15000;
/** After a registration or a stale camera, refresh the camera list this soon. */
const REFRESH_SOON_MS = 250;

const $ = (id) => document.getElementById(id);

/** What the page knows; rows are keyed by UID. */
const page = {
  token: sessionStorage.getItem(TOKEN_KEY),
  rows: new Map(),
  strips: new HistoryStrips(getJson),
  /** uid -> {on, at}: motion on/off from the events. */
  motion: new Map(),
  /** Server clock minus browser clock, ms (from heartbeat ages). */
  skewMs: 0,
  status: null,
  statusAt: 0,
  seenEvents: new Set(),
  stream: null,
  timers: [],
  refreshTimer: 0,
  running: false,
};

class Unauthorized extends Error {}
/** The server has no event stream (the wake server, and so the events, are off). */
class NoStream extends Error {}

/** fetch() with the bearer token; a 401 asks for the token and throws. */
async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  if (page.token) headers.set("authorization", `Bearer ${page.token}`);
  const response = await fetch(path, { ...init, headers, cache: "no-store" });
  if (response.status === 401) {
    await response.body?.cancel();
    askForToken(page.token ? "That token was refused; check [api] token." : "");
    throw new Unauthorized();
  }
  return response;
}

/** The JSON of a GET; `absent` when the endpoint does not exist (e.g. the wake server is off). */
async function getJson(path, absent) {
  const response = await api(path);
  if (response.status === 404 && absent !== undefined) {
    await response.body?.cancel();
    return absent;
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// ------------------------------------------------------------------------------------------
// Token

function askForToken(message) {
  stop();
  $("token-panel").hidden = false;
  $("token-error").textContent = message;
  $("token-input").focus();
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token-input").value.trim();
  if (!value) return;
  page.token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  $("token-input").value = "";
  $("token-panel").hidden = true;
  start();
});

// ------------------------------------------------------------------------------------------
// Formatting

/** ms since an ISO time of the server, or null. */
function since(iso) {
  if (!iso) return null;
  return Date.now() + page.skewMs - Date.parse(iso);
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}

// ------------------------------------------------------------------------------------------
// Header: version, uptime, listeners

function renderStatus(status) {
  page.status = status;
  page.statusAt = performance.now();
  setText($("version"), `v${status.version}`);
  const items = listenerItems(status);
  const list = $("listeners");
  const signature = JSON.stringify(items);
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(...items.map((item) => {
    const li = el("li");
    li.append(
      el("strong", "", item.name),
      el("span", "muted", item.kind),
      el("span", `badge ${item.state}`, item.state),
    );
    if (item.detail) li.append(el("span", "detail", item.detail));
    return li;
  }));
}

function tickUptime() {
  if (!page.status) return;
  const elapsed = (performance.now() - page.statusAt) / 1000;
  setText($("uptime"), duration(page.status.uptime_s + elapsed));
}

// ------------------------------------------------------------------------------------------
// Camera rows, keyed by UID, updated in place

function createRow(uid) {
  const tr = el("tr");
  tr.dataset.uid = uid;
  const cells = {
    name: el("span", "name"),
    uid: el("span", "uid"),
    address: el("span", "address"),
    state: el("span", "badge"),
    heartbeat: el("span"),
    motion: el("span", "badge idle"),
    motionAgo: el("span", "sub"),
    wakes: el("span"),
    wakesTotal: el("span", "sub"),
    drains: el("div", "drains"),
    button: el("button", "", "Wake"),
    result: el("span", "result"),
  };
  cells.button.type = "button";
  cells.result.setAttribute("role", "status");
  const head = el("th");
  head.scope = "row";
  head.append(cells.name, cells.uid);
  const cell = (label, className, ...children) => {
    const td = el("td", className);
    if (label) td.dataset.label = label;
    td.append(...children);
    return td;
  };
  tr.append(
    head,
    cell("Address", "", cells.address),
    cell("State", "", cells.state),
    cell("Last heartbeat", "", cells.heartbeat),
    cell("Motion", "", cells.motion, cells.motionAgo),
    cell("Wakes, last hour", "", cells.wakes, cells.wakesTotal),
    cell("Last 24 hours", "history", cells.drains),
    cell("", "action", cells.button, cells.result),
  );
  cells.history = cells.drains.parentElement;
  return wireRow(tr, cells);
}

/** A row the server rendered (the same markup as createRow's), taken over as it is. */
function adoptRow(tr) {
  const [head, address, state, heartbeat, motion, wakes, history, action] = tr.cells;
  const cells = {
    name: head.children[0],
    uid: head.children[1],
    address: address.children[0],
    state: state.children[0],
    heartbeat: heartbeat.children[0],
    motion: motion.children[0],
    motionAgo: motion.children[1],
    wakes: wakes.children[0],
    wakesTotal: wakes.children[1],
    history,
    drains: history.children[0],
    button: action.children[0],
    result: action.children[1],
  };
  // Disabled while the page could not wake anything (no script).
  cells.button.disabled = false;
  return wireRow(tr, cells);
}

function wireRow(tr, cells) {
  const row = { tr, cells, camera: null, fetchedAt: 0 };
  cells.button.addEventListener("click", () => wake(row));
  page.strips.add(tr.dataset.uid, row);
  return row;
}

/**
 * Takes over what the server rendered: its camera rows and its events (times made local). The
 * server asks for the token when the page's request had none; a token this tab keeps is tried
 * first (a refusal asks again).
 */
function adoptServerRendered() {
  if (page.token) $("token-panel").hidden = true;
  for (const tr of $("camera-rows").rows) page.rows.set(tr.dataset.uid, adoptRow(tr));
  for (const li of $("events").children) {
    page.seenEvents.add(li.dataset.key);
    const time = li.querySelector("time");
    time.textContent = clock(time.dateTime);
  }
}

function renderCameras(document_) {
  const fetchedAt = performance.now();
  const body = $("cameras").tBodies[0];
  const present = new Set();
  const added = [];
  for (const camera of document_.cameras) {
    present.add(camera.uid);
    if (camera.last_heartbeat && camera.age_ms !== null) {
      page.skewMs = Date.parse(camera.last_heartbeat) + camera.age_ms - Date.now();
    }
    let row = page.rows.get(camera.uid);
    if (!row) {
      row = createRow(camera.uid);
      page.rows.set(camera.uid, row);
      added.push(row.tr);
    }
    row.camera = camera;
    row.fetchedAt = fetchedAt;
    updateRow(row);
  }
  // New cameras go to the end, so rows already on screen never move.
  if (added.length > 0) body.append(...added);
  for (const [uid, row] of page.rows) {
    if (!present.has(uid)) {
      row.tr.remove();
      page.rows.delete(uid);
      page.strips.remove(uid);
    }
  }
  setText($("camera-count"), `(${page.rows.size})`);
  $("no-cameras").hidden = page.rows.size > 0;
}

function updateRow(row) {
  const { camera, cells } = row;
  setText(cells.name, camera.name ?? "(unnamed)");
  const label = `Wake ${camera.name ?? camera.uid}`;
  if (cells.button.getAttribute("aria-label") !== label) {
    cells.button.setAttribute("aria-label", label);
  }
  setText(cells.uid, camera.uid);
  const address = camera.address ? hostPort(camera.address) : "—";
  setText(cells.address, address);
  if (cells.address.title !== address) cells.address.title = address;
  setText(cells.state, STATE_LABELS[camera.state] ?? camera.state);
  const badge = `badge ${camera.state}`;
  if (cells.state.className !== badge) cells.state.className = badge;
  setText(cells.wakes, wakesText(camera));
  setText(cells.wakesTotal, `${camera.wakes} in all`);
  page.strips.update(camera.uid);
  tickRow(row);
}

/** The parts of a row that change with time alone: ages and the motion badge. */
function tickRow(row) {
  const { camera, cells } = row;
  const heartbeat = camera.age_ms === null
    ? null
    : camera.age_ms + (performance.now() - row.fetchedAt);
  setText(cells.heartbeat, ago(heartbeat));
  const motion = page.motion.get(camera.uid);
  const on = motion?.on === true;
  setText(cells.motion, on ? "motion" : "idle");
  const badge = on ? "badge motion" : "badge idle";
  if (cells.motion.className !== badge) cells.motion.className = badge;
  const last = motion?.at && (!camera.last_motion || motion.at > camera.last_motion)
    ? motion.at
    : camera.last_motion;
  setText(cells.motionAgo, last ? `last ${ago(since(last))}` : "never");
}

function tick() {
  tickUptime();
  for (const row of page.rows.values()) if (row.camera) tickRow(row);
}

// ------------------------------------------------------------------------------------------
// Wake button

async function wake(row) {
  const { button, result } = row.cells;
  button.disabled = true;
  result.classList.remove("bad");
  setText(result, "Waking…");
  try {
    const response = await api(`/api/cameras/${encodeURIComponent(row.camera.uid)}/wake`, {
      method: "POST",
    });
    const body = await response.json().catch(() => ({}));
    let text;
    if (response.status === 202) text = WAKE_RESULTS[body.result] ?? body.result;
    else if (response.status === 429) {
      text = `Refused: budget ${body.wakes_in_last_hour}/${body.limit} used`;
    } else if (response.status === 404) text = WAKE_RESULTS.not_registered;
    else text = body.error ?? `HTTP ${response.status}`;
    setText(result, text);
    result.title = text;
    result.classList.toggle("bad", response.status !== 202);
    refreshSoon();
  } catch (error) {
    if (!(error instanceof Unauthorized)) {
      setText(result, "The server did not answer");
      result.classList.add("bad");
    }
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------------------------
// Events: the backlog, then the live stream

/** Adds an event in time order (newest at the top) unless already shown; true when new. */
function showEvent(event) {
  const key = JSON.stringify(event);
  if (page.seenEvents.has(key)) return false;
  page.seenEvents.add(key);
  const li = el("li");
  li.dataset.type = event.type;
  li.dataset.key = key;
  const time = el("time", "", clock(event.at));
  time.dateTime = event.at;
  li.append(time, el("span", "who", event.name ?? event.uid), el("span", "what", eventText(event)));
  const list = $("events");
  const older = [...list.children].find((item) => item.dataset.at <= event.at);
  li.dataset.at = event.at;
  list.insertBefore(li, older ?? null);
  while (list.children.length > MAX_EVENTS_SHOWN) {
    const last = list.lastElementChild;
    page.seenEvents.delete(last.dataset.key);
    last.remove();
  }
  $("no-events").hidden = true;
  return true;
}

function applyMotion(event) {
  const known = page.motion.get(event.uid);
  if (known && known.at > event.at) return;
  page.motion.set(event.uid, { on: event.motion, at: event.at });
  const row = page.rows.get(event.uid);
  if (row?.camera) tickRow(row);
}

function onLiveEvent(event) {
  if (!showEvent(event)) return;
  if (event.type === "wake" || event.type === "motion") page.strips.eventFor(event.uid);
  if (event.type === "motion") applyMotion(event);
  else refreshSoon();
}

async function loadEvents() {
  const { events } = await getJson(`/api/events?limit=${MAX_EVENTS_SHOWN}`, { events: [] });
  // Oldest first, so motion state ends at the newest and the list keeps newest on top.
  for (const event of events.reverse()) {
    if (event.type === "motion") applyMotion(event);
    showEvent(event);
  }
}

async function followStream(signal) {
  const response = await api("/api/events/stream", {
    signal,
    headers: { accept: "text/event-stream" },
  });
  if (response.status === 404) throw new NoStream();
  if (!response.ok || !response.body) throw new Error(`event stream: HTTP ${response.status}`);
  setLive(true);
  // Catch up with whatever happened while not connected.
  void Promise.all([loadEvents(), refresh()]).catch(() => {});
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) onLiveEvent(JSON.parse(data));
    }
  }
}

async function streamForever(controller) {
  let delay = STREAM_RETRY_FIRST_MS;
  while (!controller.signal.aborted) {
    try {
      await followStream(controller.signal);
      delay = STREAM_RETRY_FIRST_MS;
    } catch (error) {
      if (error instanceof NoStream) {
        setText($("live"), "off on this server");
        return;
      }
      if (error instanceof Unauthorized || controller.signal.aborted) return;
    }
    setLive(false);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, STREAM_RETRY_MAX_MS);
  }
}

function setLive(on) {
  const live = $("live");
  live.dataset.live = on ? "on" : "off";
  setText(live, on ? "connected" : "reconnecting…");
}

// ------------------------------------------------------------------------------------------
// Start, poll, stop

async function refresh() {
  const [status, cameras] = await Promise.all([
    getJson("/api/status"),
    getJson("/api/cameras", { cameras: [] }),
  ]);
  renderStatus(status);
  renderCameras(cameras);
}

function refreshSoon() {
  clearTimeout(page.refreshTimer);
  page.refreshTimer = setTimeout(() => void refresh().catch(() => {}), REFRESH_SOON_MS);
}

async function start() {
  if (page.running) return;
  try {
    await refresh();
    await loadEvents();
  } catch (error) {
    if (error instanceof Unauthorized) return;
    setText($("live"), "server unreachable, retrying…");
    setTimeout(start, STREAM_RETRY_MAX_MS);
    return;
  }
  page.running = true;
  page.stream = new AbortController();
  void streamForever(page.stream);
  page.timers.push(
    setInterval(() => {
      if (document.hidden) return;
      void refresh().catch(() => {});
      page.strips.refreshDue();
    }, POLL_MS),
    setInterval(tick, TICK_MS),
  );
  tick();
}

function stop() {
  page.running = false;
  page.stream?.abort();
  page.stream = null;
  for (const timer of page.timers) clearInterval(timer);
  page.timers = [];
  setLive(false);
}

adoptServerRendered();
void start();
