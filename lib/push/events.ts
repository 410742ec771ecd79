/**
 * The recent motion and wake events, newest first, for `GET /api/events`: a bounded ring so
 * a long-running server (or a flood of pushes) never grows it.
 */

import { jsonResponse, type Route } from "../api/http.ts";

/** How many events `GET /api/events` can return (older ones are dropped). */
export const MAX_RECENT_EVENTS = 256;

/** A camera's motion turned on (first push) or off (hold ended after the last push). */
export interface MotionEvent {
  type: "motion";
  uid: string;
  name: string | null;
  motion: boolean;
  at: number;
}

/** A wake was asked for (by the API, MQTT, a motion push or a client's C2R_C). */
export interface WakeEventRecord {
  type: "wake";
  uid: string;
  name: string | null;
  sid: number;
  source: string;
  result: string;
  at: number;
}

/** One entry of the log. */
export type RecentEvent = MotionEvent | WakeEventRecord;

/** A fixed-size ring of recent events. */
export class RecentEvents {
  readonly #capacity: number;
  readonly #ring: RecentEvent[] = [];
  #next = 0;

  constructor(capacity = MAX_RECENT_EVENTS) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`event log capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /** Appends an event, dropping the oldest when full. */
  add(event: RecentEvent): void {
    if (this.#ring.length < this.#capacity) this.#ring.push(event);
    else this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** The events, newest first (copies), at most `limit`. */
  list(limit = this.#capacity): RecentEvent[] {
    const ordered = this.#ring.length < this.#capacity
      ? this.#ring.slice()
      : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return ordered.reverse().slice(0, Math.max(0, limit)).map((event) => ({ ...event }));
  }
}

/** An event as `GET /api/events` shows it (times as ISO 8601). */
export type EventDocument =
  | Omit<MotionEvent, "at">
    & { at: string }
  | Omit<WakeEventRecord, "at"> & { at: string };

/**
 * `GET /api/events[?limit=N]` -> `{"events":[...]}`, newest first: motion on/off and wakes,
 * at most MAX_RECENT_EVENTS.
 */
export function eventsRoute(events: RecentEvents): Route {
  return {
    method: "GET",
    path: "/api/events",
    handle: (request) => {
      const limitText = new URL(request.url).searchParams.get("limit");
      const limit = limitText === null ? MAX_RECENT_EVENTS : Number(limitText);
      if (!Number.isInteger(limit) || limit < 0) {
        return jsonResponse(400, {
          error: `limit must be a non-negative integer (at most ${MAX_RECENT_EVENTS})`,
        });
      }
      const documents = events.list(limit).map((event) => ({
        ...event,
        at: new Date(event.at).toISOString(),
      }));
      return jsonResponse(200, { events: documents });
    },
  };
}
