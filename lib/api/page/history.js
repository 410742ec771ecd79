// The status page's 24-hour strip per camera: its history fetched from
// `GET /api/cameras/{camera}/history?since=24h` and drawn as inline SVG (the heartbeat band,
// marks for registrations, motion and wakes coloured by requester), with the detail of the mark
// under the pointer, tapped or focused (arrow keys move between marks) in a line of text below,
// and the wakes of today by requester, which is also the colours' legend. Also the drain
// warning, which `GET /api/cameras` carries.
//
// Bounded: a strip is fetched only while its row is on screen or near it (an
// IntersectionObserver), again once it is a minute old or after an event of its camera arrives,
// and never more than a few at a time; with 1,024 cameras the page asks for a screenful.
// A server without a history (no `drain` in /api/cameras) gets no strip and no request.
// Every string from the network goes in as text (textContent, createElementNS), never as markup.

import { el } from "./dom.js";
import { drainText } from "./format.js";
import { stripModel } from "./strip.js";

/** A strip on screen is fetched again once it is this old. */
const HISTORY_REFRESH_MS = 60_000;
/** After a wake or motion of the camera, its strip is fetched again this soon. */
const HISTORY_AFTER_EVENT_MS = 2_000;
/** History requests in flight at most. */
const HISTORY_CONCURRENCY = 3;
/** Rows this close to the screen count as on it (their strip is ready when scrolled to). */
const NEAR_SCREEN = "300px 0px";
/** Requester colours (page.css `.req-0` ...), given in order of appearance, then reused. */
const PALETTE_SIZE = 6;
const SVG = "http://www.w3.org/2000/svg";
/** The strip's lanes, in px from its top: wakes, the heartbeat band, motion. */
const LANES = { wake: [2, 16], band: [18, 32], motion: [34, 46] };
const STRIP_HEIGHT = 48;

/** One camera's strip: its row, whether it is on screen, when it was last asked for. */
class Strip {
  constructor(row) {
    this.row = row;
    this.visible = false;
    this.fetchedAt = 0;
    this.stale = false;
    this.timer = 0;
    this.signature = "";
  }

  get supported() {
    return Array.isArray(this.row.camera?.drain);
  }

  due(now) {
    return this.supported && this.visible &&
      (this.stale || this.fetchedAt === 0 || now - this.fetchedAt >= HISTORY_REFRESH_MS);
  }
}

/** Every camera's strip; see the module's comment. */
export class HistoryStrips {
  /** @param {(path: string, absent: unknown) => Promise<any>} getJson the page's API reader */
  constructor(getJson) {
    this.getJson = getJson;
    /** uid -> Strip */
    this.strips = new Map();
    this.queue = [];
    this.inFlight = 0;
    /** requester label -> palette index */
    this.colours = new Map();
    this.observer = new IntersectionObserver((entries) => this.onVisibility(entries), {
      rootMargin: NEAR_SCREEN,
    });
  }

  /** Starts following a camera row (new or adopted from the server's first paint). */
  add(uid, row) {
    this.strips.set(uid, new Strip(row));
    this.observer.observe(row.tr);
  }

  remove(uid) {
    const strip = this.strips.get(uid);
    if (!strip) return;
    clearTimeout(strip.timer);
    this.observer.unobserve(strip.row.tr);
    this.strips.delete(uid);
  }

  /** The camera document changed: its drain warning, and its strip when due. */
  update(uid) {
    const strip = this.strips.get(uid);
    if (!strip) return;
    showDrains(strip.row, strip.row.camera.drain ?? []);
    this.fetchIfDue(uid, strip);
  }

  /** Fetches every strip on screen that is a minute old (called on the page's poll). */
  refreshDue() {
    for (const [uid, strip] of this.strips) this.fetchIfDue(uid, strip);
  }

  /** Something happened to the camera (a wake, motion): its strip is fetched again soon. */
  eventFor(uid) {
    const strip = this.strips.get(uid);
    if (!strip) return;
    strip.stale = true;
    clearTimeout(strip.timer);
    strip.timer = setTimeout(() => this.fetchIfDue(uid, strip), HISTORY_AFTER_EVENT_MS);
  }

  onVisibility(entries) {
    for (const entry of entries) {
      const uid = entry.target.dataset.uid;
      const strip = this.strips.get(uid);
      if (!strip) continue;
      strip.visible = entry.isIntersecting;
      this.fetchIfDue(uid, strip);
    }
  }

  fetchIfDue(uid, strip) {
    if (!strip.due(performance.now()) || this.queue.includes(uid)) return;
    this.queue.push(uid);
    this.pump();
  }

  pump() {
    while (this.inFlight < HISTORY_CONCURRENCY && this.queue.length > 0) {
      const uid = this.queue.shift();
      const strip = this.strips.get(uid);
      if (!strip) continue;
      strip.fetchedAt = performance.now();
      strip.stale = false;
      this.inFlight++;
      void this.load(uid, strip).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  async load(uid, strip) {
    let history;
    try {
      history = await this.getJson(
        `/api/cameras/${encodeURIComponent(uid)}/history?since=24h`,
        null,
      );
    } catch {
      return; // The strip stays as it was; the next refresh tries again.
    }
    if (history && Array.isArray(history.events) && this.strips.get(uid) === strip) {
      this.draw(strip, history);
    }
  }

  /** Draws (or redraws) a strip, keeping the focused mark focused. */
  draw(strip, history) {
    const signature = JSON.stringify([history.events, history.hours, history.cadence_ms]);
    if (signature === strip.signature) return;
    strip.signature = signature;
    const midnight = new Date(Date.parse(history.now)).setHours(0, 0, 0, 0);
    const model = stripModel(history, midnight, shortClock);
    const cell = strip.row.cells.history;
    const focused = cell.querySelector(".mark:focus")?.textContent;
    const name = strip.row.camera.name ?? strip.row.camera.uid;
    const figure = el("div", "strip-figure");
    const note = el("p", "strip-note", model.summary);
    figure.append(
      this.svg(model, name, note),
      axis(),
      note,
      this.todayList(model.today),
    );
    cell.querySelector(".strip-figure")?.remove();
    cell.append(figure);
    document.getElementById("strip-key").hidden = false;
    if (focused !== undefined) {
      [...figure.querySelectorAll(".mark")].find((mark) => mark.textContent === focused)?.focus();
    }
  }

  colourOf(requester) {
    if (!this.colours.has(requester)) this.colours.set(requester, this.colours.size);
    return `req-${this.colours.get(requester) % PALETTE_SIZE}`;
  }

  svg(model, name, note) {
    const svg = svgEl("svg", { class: "strip", width: "100%", height: STRIP_HEIGHT });
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", `${name}: the last 24 hours (arrow keys move between marks)`);
    const [top, bottom] = LANES.band;
    const band = (x, width, className) =>
      svgEl("rect", {
        x: `${x}%`,
        width: `${width}%`,
        y: top,
        height: bottom - top,
        class: className,
      });
    svg.append(titled(band(0, 100, "band-none"), "No heartbeat recorded"));
    for (const span of model.online) {
      svg.append(titled(band(span.x, span.width, "band-online"), span.title));
    }
    for (const x of [25, 50, 75]) {
      svg.append(
        svgEl("line", { x1: `${x}%`, x2: `${x}%`, y1: 0, y2: STRIP_HEIGHT, class: "grid" }),
      );
    }
    const marks = [
      ...model.offline.map((span) => ({ ...span, offline: true })),
      ...model.marks,
    ].sort((a, b) => a.x - b.x);
    for (const mark of marks) {
      const g = svgEl("g", { class: "mark", tabindex: -1 });
      g.setAttribute("role", "img");
      const title = svgEl("title", {});
      title.textContent = mark.title;
      g.append(title, ...this.markShapes(mark));
      svg.append(g);
    }
    const focusable = [...svg.querySelectorAll(".mark")];
    focusable.at(-1)?.setAttribute("tabindex", "0");
    svg.addEventListener("focusin", (event) => {
      const mark = event.target.closest(".mark");
      if (mark) note.textContent = mark.textContent;
    });
    svg.addEventListener("focusout", () => note.textContent = model.summary);
    svg.addEventListener("keydown", (event) => {
      const at = focusable.indexOf(document.activeElement);
      const next = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: focusable.length - 1 }[
        event.key
      ];
      if (at < 0 || next === undefined || !focusable[next]) return;
      event.preventDefault();
      focusable[at].setAttribute("tabindex", "-1");
      focusable[next].setAttribute("tabindex", "0");
      focusable[next].focus();
    });
    return svg;
  }

  /** A mark's visible shape and a wider transparent one that takes the pointer or the tap. */
  markShapes(mark) {
    if (mark.offline) {
      const [top, bottom] = LANES.band;
      return [svgEl("rect", {
        x: `${mark.x}%`,
        width: `${mark.width}%`,
        y: top,
        height: bottom - top,
        class: "band-offline",
      })];
    }
    const [top, bottom] = LANES[mark.lane];
    const line = (className) =>
      svgEl("line", { x1: `${mark.x}%`, x2: `${mark.x}%`, y1: top, y2: bottom, class: className });
    const shape = mark.lane === "wake"
      ? line(`wake ${this.colourOf(mark.requester)}${mark.refused ? " refused" : ""}`)
      : mark.lane === "motion"
      ? svgEl("circle", { cx: `${mark.x}%`, cy: (top + bottom) / 2, r: 4, class: "motion-mark" })
      : line("registered");
    return [shape, line("hit")];
  }

  todayList(today) {
    const box = el("div", "today");
    box.append(el("span", "today-label", "Wakes today by requester:"));
    if (today.length === 0) {
      box.append(el("span", "muted", " none"));
      return box;
    }
    const list = el("ul");
    for (const { requester, wakes } of today) {
      const swatch = el("span", `swatch ${this.colourOf(requester)}`);
      swatch.setAttribute("aria-hidden", "true");
      const li = el("li");
      li.append(swatch, el("span", "who", requester), el("span", "count", String(wakes)));
      list.append(li);
    }
    box.append(list);
    return box;
  }
}

/** The row's drain warnings (text naming requester and count) and its marked look. */
function showDrains(row, drains) {
  const texts = drains.map(drainText);
  const box = row.cells.drains;
  if (JSON.stringify(texts) === box.dataset.texts) return;
  box.dataset.texts = JSON.stringify(texts);
  box.replaceChildren(...texts.map((text) => el("p", "drain", text)));
  row.tr.classList.toggle("draining", texts.length > 0);
}

/** "14:03" in the browser's time zone. */
function shortClock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

function axis() {
  const box = el("div", "strip-axis");
  box.setAttribute("aria-hidden", "true");
  box.append(el("span", "", "24 h ago"), el("span", "", "12 h ago"), el("span", "", "now"));
  return box;
}

function titled(element, text) {
  const title = svgEl("title", {});
  title.textContent = text;
  element.append(title);
  return element;
}

function svgEl(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  return element;
}
