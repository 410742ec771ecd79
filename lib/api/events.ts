/**
 * The recent events (motion, wakes, registrations, cameras gone stale), newest first, for
 * `GET /api/events`: a bounded ring so a long-running server (or a flood of pushes) never grows
 * it. Subscribers (the live event stream) hear each event as it is added.
 */

import type { Route } from "./http.ts";
import { jsonResponse } from "./json_response.ts";

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

/** A camera registered (first heartbeat, or back after going stale). */
export interface RegisteredEvent {
  type: "registered";
  uid: string;
  name: string | null;
  /** "ip:port" of the heartbeat. */
  address: string;
  at: number;
}

/** A camera went stale: no heartbeat within stale_after_ms, so it left the registry. */
export interface StaleEvent {
  type: "stale";
  uid: string;
  name: string | null;
  at: number;
}

/** One entry of the log. */
export type RecentEvent = MotionEvent | WakeEventRecord | RegisteredEvent | StaleEvent;

/** A fixed-size ring of recent events. */
export class RecentEvents {
  readonly #capacity: number;
  readonly #ring: RecentEvent[] = [];
  readonly #subscribers = new Set<(event: RecentEvent) => void>();
  #next = 0;

  constructor(capacity = MAX_RECENT_EVENTS) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`event log capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /** Appends an event, dropping the oldest when full, and tells every subscriber. */
  add(event: RecentEvent): void {
    if (this.#ring.length < this.#capacity) this.#ring.push(event);
    else this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.#capacity;
    for (const subscriber of this.#subscribers) subscriber({ ...event });
  }

  /** Calls `subscriber` with a copy of each event added from now on; returns the unsubscribe. */
  subscribe(subscriber: (event: RecentEvent) => void): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /** The events, newest first (copies), at most `limit`. */
  list(limit = this.#capacity): RecentEvent[] {
    const ordered = this.#ring.length < this.#capacity
      ? this.#ring.slice()
      : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return ordered.reverse().slice(0, Math.max(0, limit)).map((event) => ({ ...event }));
  }
}

/** An event as `GET /api/events` and the event stream show it (times as ISO 8601). */
export type EventDocument = Documented<RecentEvent>;
type Documented<E> = E extends RecentEvent ? Omit<E, "at"> & { at: string } : never;

/** The JSON document of one event. */
export function eventDocument(event: RecentEvent): EventDocument {
  return { ...event, at: new Date(event.at).toISOString() } as EventDocument;
}

/**
 * `GET /api/events[?limit=N]` -> `{"events":[...]}`, newest first: motion on/off, wakes,
 * registrations and stale cameras, at most MAX_RECENT_EVENTS.
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
      return jsonResponse(200, { events: events.list(limit).map(eventDocument) });
    },
  };
}
