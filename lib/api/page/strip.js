// A camera's last 24 hours as the status page draws them, from the history document of
// `GET /api/cameras/{camera}/history?since=24h`: the heartbeat band (hours with heartbeats,
// offline spans), the marks (registrations, motion, wakes with their requester) and the wakes
// of today by requester. Positions are percentages of the strip's width, so the page draws it
// at any width. Plain data and words; no DOM.

/** The strip's span, ms. */
export const STRIP_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;

/** What each wake result is called in a mark's detail. */
const WAKE_DETAIL = {
  started: "started",
  refused: "refused by the budget",
};

/**
 * @typedef {{ type: "registered", at: string, address: string }
 *   | { type: "offline", from: string, to: string }
 *   | { type: "motion", at: string }
 *   | { type: "wake", at: string, requester: string, kind: string, result: string,
 *       acknowledged: boolean, count: number }} HistoryEvent
 * @typedef {{ now: string, cadence_ms: number | null, events: HistoryEvent[],
 *   hours: { hour: string, heartbeats: number, by_requester: Record<string, number> }[] }}
 *   HistoryDocument
 * @typedef {{ x: number, width: number, title: string }} Span
 * @typedef {{ lane: "band" | "motion" | "wake", x: number, title: string,
 *   requester?: string, refused?: boolean }} Mark
 */

/**
 * The strip of `history` (its `now` is the strip's right end): `online` hours (a heartbeat came),
 * `offline` spans, the `marks` oldest first, and `today`: the wakes started since `midnight`
 * (ms, the viewer's local midnight) per requester, most first, with every requester that has a
 * mark in the strip (0 when none today) so each mark's colour is named. `clock` words a time.
 * @param {HistoryDocument} history
 * @param {number} midnight
 * @param {(ms: number) => string} clock
 * @returns {{ online: Span[], offline: Span[], marks: Mark[],
 *   today: { requester: string, wakes: number }[], summary: string }}
 */
export function stripModel(history, midnight, clock) {
  const to = Date.parse(history.now);
  const from = to - STRIP_MS;
  // Percentages to a thousandth: finer than any screen, and short in the SVG's attributes.
  /** @param {number} value */
  const round = (value) => Math.round(value * 1000) / 1000;
  /** @param {number} at */
  const x = (at) => round(Math.min(100, Math.max(0, ((at - from) / STRIP_MS) * 100)));
  /** @param {number} start @param {number} end */
  const span = (start, end) => ({ x: x(start), width: round(Math.max(0, x(end) - x(start))) });

  const online = [];
  const todayCounts = new Map();
  for (const bucket of history.hours) {
    const hour = Date.parse(bucket.hour);
    if (bucket.heartbeats > 0 && hour + HOUR_MS > from) {
      online.push({
        ...span(hour, Math.min(hour + HOUR_MS, to)),
        title: `${clock(hour)}–${clock(hour + HOUR_MS)}: ${plural(bucket.heartbeats, "heartbeat")}`,
      });
    }
    if (hour >= Math.floor(midnight / HOUR_MS) * HOUR_MS) {
      for (const [requester, wakes] of Object.entries(bucket.by_requester)) {
        todayCounts.set(requester, (todayCounts.get(requester) ?? 0) + wakes);
      }
    }
  }

  const offline = [];
  /** @type {Mark[]} */
  const marks = [];
  for (const event of history.events) {
    if (event.type === "offline") {
      const start = Date.parse(event.from), end = Date.parse(event.to);
      offline.push({
        ...span(start, end),
        title: `Offline ${clock(start)}–${clock(end)} (${minutes(end - start)})`,
      });
      continue;
    }
    const at = Date.parse(event.at);
    if (at < from || at > to) continue;
    if (event.type === "registered") {
      marks.push({
        lane: "band",
        x: x(at),
        title: `${clock(at)} registered from ${event.address}`,
      });
    } else if (event.type === "motion") {
      marks.push({ lane: "motion", x: x(at), title: `${clock(at)} motion` });
    } else if (event.type === "wake") {
      marks.push({
        lane: "wake",
        x: x(at),
        requester: event.requester,
        refused: event.result === "refused",
        title: `${clock(at)} ${wakeText(event)}`,
      });
    }
  }

  for (const mark of marks) {
    if (mark.requester !== undefined && !todayCounts.has(mark.requester)) {
      todayCounts.set(mark.requester, 0);
    }
  }
  const today = [...todayCounts].map(([requester, wakes]) => ({ requester, wakes }))
    .sort((a, b) => b.wakes - a.wakes);
  return { online, offline, marks, today, summary: summaryText(history, offline.length) };
}

/**
 * "wake by home-assistant (client): started, the camera answered".
 * @param {Extract<HistoryEvent, { type: "wake" }>} event
 */
function wakeText(event) {
  const refused = event.result === "refused";
  const result = WAKE_DETAIL[/** @type {keyof WAKE_DETAIL} */ (event.result)] ?? event.result;
  const answer = refused ? "" : event.acknowledged ? ", the camera answered" : ", no answer";
  const times = event.count > 1 ? ` (${event.count} times)` : "";
  return `wake by ${event.requester} (${event.kind}): ${result}${answer}${times}`;
}

/**
 * "Heartbeat every 12 s, offline twice" (what the band shows, in words).
 * @param {HistoryDocument} history
 * @param {number} spans
 */
function summaryText(history, spans) {
  const cadence = history.cadence_ms === null
    ? "Heartbeat cadence not known yet"
    : `Heartbeat every ${Math.max(1, Math.round(history.cadence_ms / 1000))} s`;
  const gaps = spans === 0 ? "never offline" : `offline ${spans === 1 ? "once" : `${spans} times`}`;
  return `${cadence}, ${gaps} in 24 h`;
}

/** @param {number} count @param {string} noun */
function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** @param {number} ms */
function minutes(ms) {
  const total = Math.max(1, Math.round(ms / 60_000));
  return total < 60 ? `${total} min` : `${Math.floor(total / 60)} h ${total % 60} min`;
}
