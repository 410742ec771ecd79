/**
 * The control API's endpoints: the camera list, waking a camera, Prometheus metrics and a
 * health check. Each is a `Route`; `startService` puts them in the table (issue 5 adds its own).
 *
 * Times in the JSON documents are ISO 8601 strings in UTC (`null` when never); durations are
 * integer milliseconds (`age_ms`).
 */

import type { CameraEntry, CameraRegistry } from "../wake/registry.ts";
import type { WakeServer } from "../wake/server.ts";
import { errorResponse, jsonResponse, type Route } from "./http.ts";

/** One camera as `GET /api/cameras` shows it. */
export interface CameraDocument {
  uid: string;
  /** The configured name, or null for an unconfigured camera. */
  name: string | null;
  /** UDP source address of its last heartbeat. */
  address: { ip: string; port: number };
  first_seen: string;
  last_heartbeat: string;
  /** Milliseconds since the last heartbeat. */
  age_ms: number;
  /** Heartbeat within stale_after_ms (stale entries are listed until evicted, about 1 s). */
  fresh: boolean;
  /** Wake bursts started for it. */
  wakes: number;
  last_wake: string | null;
  last_motion: string | null;
}

/** The `GET /api/cameras` document. */
export interface CamerasDocument {
  cameras: CameraDocument[];
}

/** Renders the registry as the `GET /api/cameras` document (freshest first). */
export function camerasDocument(registry: CameraRegistry, now: number): CamerasDocument {
  return {
    cameras: registry.list().map((entry) =>
      cameraDocument(entry, registry.isFresh(entry, now), now)
    ),
  };
}

function cameraDocument(entry: CameraEntry, fresh: boolean, now: number): CameraDocument {
  return {
    uid: entry.uid,
    name: entry.name ?? null,
    address: { ip: entry.address.ip, port: entry.address.port },
    first_seen: iso(entry.firstSeen),
    last_heartbeat: iso(entry.lastHeartbeat),
    age_ms: Math.max(0, now - entry.lastHeartbeat),
    fresh,
    wakes: entry.wakes,
    last_wake: entry.lastWake === undefined ? null : iso(entry.lastWake),
    last_motion: entry.lastMotion === undefined ? null : iso(entry.lastMotion),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What the wake-server routes need. */
export interface WakeRoutesDeps {
  wake: WakeServer;
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * `GET /api/cameras` and `POST /api/cameras/{uid-or-name}/wake` (202 `{uid, sid, result}`,
 * 404 not registered, 429 over the hourly wake budget), and `GET /metrics`.
 */
export function wakeRoutes(deps: WakeRoutesDeps): Route[] {
  const now = deps.now ?? Date.now;
  return [
    {
      method: "GET",
      path: "/api/cameras",
      handle: () => jsonResponse(200, camerasDocument(deps.wake.registry, now())),
    },
    {
      method: "POST",
      path: "/api/cameras/:target/wake",
      handle: (_request, params) => {
        const outcome = deps.wake.wake(params.target, "api");
        switch (outcome.result) {
          case "started":
          case "in_flight":
            return jsonResponse(202, {
              uid: outcome.uid,
              sid: outcome.sid,
              result: outcome.result,
            });
          case "not_registered":
            return errorResponse(
              404,
              `camera ${outcome.target} is not registered (no fresh heartbeat); check that its ` +
                "DNS points p2p*.reolink.com here",
              { target: outcome.target },
            );
          case "over_budget":
            return errorResponse(
              429,
              `camera ${outcome.uid} was woken ${outcome.wakesInLastHour} times in the last hour ` +
                `(limit ${outcome.limit}, [wake_server] max_wakes_per_hour)`,
              {
                uid: outcome.uid,
                wakes_in_last_hour: outcome.wakesInLastHour,
                limit: outcome.limit,
              },
            );
        }
      },
    },
    {
      method: "GET",
      path: "/metrics",
      handle: () =>
        new Response(deps.wake.metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
  ];
}

/** `GET /healthz`: 200 `{"status":"ok"}` while the service runs; needs no token. */
export function healthRoute(): Route {
  return {
    method: "GET",
    path: "/healthz",
    public: true,
    handle: () => jsonResponse(200, { status: "ok" }),
  };
}
