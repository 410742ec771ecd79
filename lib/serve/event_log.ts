/**
 * Feeds the recent-events log (`GET /api/events` and its stream) from serve's bus:
 * registrations, cameras gone stale, wakes and motion on/off, each with the camera's
 * configured name.
 */

import type { Route } from "../api/http.ts";
import { eventsRoute, RecentEvents } from "../api/events.ts";
import { EventStreams } from "../api/event_stream.ts";
import { formatListen } from "../net/listen_address.ts";
import type { RegistryView } from "../wake/registry.ts";
import type { ServeBus } from "./bus.ts";

/** The running events log. */
export interface EventLog {
  readonly events: RecentEvents;
  /** `GET /api/events` and its live form `GET /api/events/stream`. */
  readonly routes: Route[];
  /** Stops listening and ends the open event streams. */
  close(): void;
}

/** Starts the events log on the bus, with at most `maxStreams` live streams. */
export function startEventLog(
  bus: ServeBus,
  registry: Pick<RegistryView, "nameFor">,
  maxStreams: number,
): EventLog {
  const events = new RecentEvents();
  const streams = new EventStreams(events, { maxClients: maxStreams });
  const unsubscribe = logServeEvents(events, bus, registry);
  return {
    events,
    routes: [eventsRoute(events), streams.route()],
    close() {
      unsubscribe();
      streams.close();
    },
  };
}

/** Subscribes `events` to the bus; returns the unsubscribe function. */
function logServeEvents(
  events: RecentEvents,
  bus: ServeBus,
  registry: Pick<RegistryView, "nameFor">,
): () => void {
  const name = (uid: string) => registry.nameFor(uid) ?? null;
  const unsubscribers = [
    bus.on("registered", (event) =>
      events.add({
        type: "registered",
        uid: event.uid,
        name: name(event.uid),
        address: formatListen({ host: event.address.ip, port: event.address.port }),
        at: event.at,
      })),
    bus.on(
      "deregistered",
      (event) => events.add({ type: "stale", uid: event.uid, name: name(event.uid), at: event.at }),
    ),
    bus.on("wake", (event) =>
      events.add({
        type: "wake",
        uid: event.uid,
        name: name(event.uid),
        sid: event.sid,
        source: event.source,
        result: event.result,
        at: event.at,
      })),
    bus.on("motion", (event) =>
      events.add({
        type: "motion",
        uid: event.uid,
        name: name(event.uid),
        motion: event.motion,
        at: event.at,
      })),
  ];
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}
