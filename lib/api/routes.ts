/**
 * The control API's endpoints: the camera list, waking a camera, Prometheus metrics and a
 * health check. Each is a `Route`; `startService` puts them in the table (the events log adds
 * its own).
 *
 * Times in the JSON documents are ISO 8601 strings in UTC (`null` when never); durations are
 * integer milliseconds (`age_ms`).
 */

import type { Metrics } from "../metrics.ts";
import type { CameraEntry, RegistryView } from "../wake/registry.ts";
import type { WakeServer } from "../wake/server.ts";
import type { CameraHistoryFields } from "./history_route.ts";
import type { Route } from "./http.ts";
import { errorResponse, jsonResponse } from "./json_response.ts";

/** Where a camera stands: heartbeating, gone quiet, or configured but never registered. */
export type CameraState = "fresh" | "stale" | "never_seen";

/** One camera as `GET /api/cameras` shows it. */
export interface CameraDocument {
  uid: string;
  /** The configured name, or null for an unconfigured camera. */
  name: string | null;
  state: CameraState;
  /** UDP source address of its last heartbeat; null when never seen. */
  address: { ip: string; port: number } | null;
  first_seen: string | null;
  last_heartbeat: string | null;
  /** Milliseconds since the last heartbeat; null when never seen. */
  age_ms: number | null;
  /** Heartbeat within stale_after_ms (the same as `state === "fresh"`). */
  fresh: boolean;
  /** Wake bursts started for it. */
  wakes: number;
  /** Wakes in the last hour, counted against `wake_budget`; null when there is no budget. */
  wakes_last_hour: number | null;
  /** max_wakes_per_hour; null when unlimited (0) or unknown. */
  wake_budget: number | null;
  last_wake: string | null;
  last_motion: string | null;
}

/** The `GET /api/cameras` document (with each camera's history fields when serve keeps one). */
export interface CamerasDocument {
  cameras: (CameraDocument & Partial<CameraHistoryFields>)[];
}

/** A camera's history fields by UID, e.g. `historyFieldsOf(store, now)`. */
export type HistoryFieldsOf = (uid: string) => CameraHistoryFields;

/**
 * Every camera the server knows: registered ones (freshest first), then configured cameras
 * without a registered UID, as `stale` (seen before, swept since) or `never_seen`.
 */
export function camerasDocument(
  registry: RegistryView,
  now: number,
  budget?: WakeBudgetOf,
  history?: HistoryFieldsOf,
): CamerasDocument {
  const listed = registry.list();
  const cameras: CamerasDocument["cameras"] = listed.map((entry) =>
    cameraDocument(entry, registry.isFresh(entry, now) ? "fresh" : "stale", now, budget)
  );
  const named = new Set(listed.map((entry) => entry.name));
  for (const camera of registry.configured) {
    if (named.has(camera.name)) continue;
    const departed = registry.departedEntry(camera.name);
    cameras.push(
      departed ? cameraDocument(departed, "stale", now, budget) : neverSeenDocument(camera, budget),
    );
  }
  if (history) cameras.forEach((camera) => Object.assign(camera, history(camera.uid)));
  return { cameras };
}

/**
 * How many cameras are in each state, for `/api/status`: the states `camerasDocument` gives,
 * counted without building it. Status is polled (the page, `doctor`, scripts); a document of
 * every camera per poll is garbage enough to grow the heap with 1,024 cameras.
 */
export function countCameras(registry: RegistryView, now: number): Record<CameraState, number> {
  const counts: Record<CameraState, number> = { fresh: 0, stale: 0, never_seen: 0 };
  const named = new Set<string>();
  registry.forEachEntry((entry) => {
    counts[registry.isFresh(entry, now) ? "fresh" : "stale"]++;
    if (entry.name !== undefined) named.add(entry.name);
  });
  for (const camera of registry.configured) {
    if (named.has(camera.name)) continue;
    counts[registry.departedEntry(camera.name) ? "stale" : "never_seen"]++;
  }
  return counts;
}

/** A camera's wakes in the last hour and the hourly limit (0 = none), e.g. `wake.wakeBudget`. */
export type WakeBudgetOf = (uid: string) => { used: number; limit: number };

function budgetFields(uid: string, budget: WakeBudgetOf | undefined) {
  const of = budget?.(uid);
  return of && of.limit > 0
    ? { wakes_last_hour: of.used, wake_budget: of.limit }
    : { wakes_last_hour: null, wake_budget: null };
}

function cameraDocument(
  entry: CameraEntry,
  state: CameraState,
  now: number,
  budget: WakeBudgetOf | undefined,
): CameraDocument {
  return {
    uid: entry.uid,
    name: entry.name ?? null,
    state,
    address: { ip: entry.address.ip, port: entry.address.port },
    first_seen: iso(entry.firstSeen),
    last_heartbeat: iso(entry.lastHeartbeat),
    age_ms: Math.max(0, now - entry.lastHeartbeat),
    fresh: state === "fresh",
    wakes: entry.wakes,
    ...budgetFields(entry.uid, budget),
    last_wake: entry.lastWake === undefined ? null : iso(entry.lastWake),
    last_motion: entry.lastMotion === undefined ? null : iso(entry.lastMotion),
  };
}

function neverSeenDocument(
  camera: { name: string; uid: string },
  budget: WakeBudgetOf | undefined,
): CameraDocument {
  return {
    uid: camera.uid,
    name: camera.name,
    state: "never_seen",
    address: null,
    first_seen: null,
    last_heartbeat: null,
    age_ms: null,
    fresh: false,
    wakes: 0,
    ...budgetFields(camera.uid, budget),
    last_wake: null,
    last_motion: null,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What the wake-server routes need. */
export interface WakeRoutesDeps {
  wake: WakeServer;
  /** The process's metrics, rendered by `GET /metrics`. */
  metrics: Metrics;
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
  /** Each camera's history fields at a time (serve's history); absent = none shown. */
  history?: (now: number) => HistoryFieldsOf;
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
      handle: () => {
        const at = now();
        const history = deps.history?.(at);
        return jsonResponse(
          200,
          camerasDocument(deps.wake.registry, at, deps.wake.wakeBudget, history),
        );
      },
    },
    {
      method: "POST",
      path: "/api/cameras/:target/wake",
      handle: (_request, params, context) => {
        const outcome = deps.wake.wake(
          params.target,
          context ? { kind: "api", address: context.peer } : { kind: "api" },
        );
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
              { target: outcome.target, uid: outcome.uid },
            );
          case "unknown":
            return errorResponse(
              404,
              `no camera is named ${outcome.target} or has that UID (GET /api/cameras lists ` +
                "them)",
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
        new Response(deps.metrics.render(), {
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
