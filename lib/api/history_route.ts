/**
 * A camera's history in the control API: `GET /api/cameras/{camera}/history?since=...` (its
 * events, hourly counts, wakes per requester, heartbeat cadence and drain warnings), and the
 * per-camera summary fields `GET /api/cameras` adds (wakes and motion today, the last
 * requester, the requesters over the drain threshold).
 *
 * Requester labels and UIDs come from the network: they are data in these documents, never
 * markup, and whoever shows them escapes them.
 */

import type { HistoryEvent } from "../history/camera_history.ts";
import { HOUR_MS } from "../history/hours.ts";
import type { RequesterKind } from "../history/requesters.ts";
import type { DrainReport, HistoryStore, RequesterTotal } from "../history/store.ts";
import { type RegistryView, SHORT_UID_LENGTH } from "../wake/registry.ts";
import type { Route } from "./http.ts";
import { errorResponse, jsonResponse } from "./json_response.ts";

/** The default and the longest-ago `since`. */
export const DEFAULT_HISTORY_SINCE_MS = 24 * HOUR_MS;

/** What `GET /api/cameras` adds to each camera. */
export interface CameraHistoryFields {
  wakes_today: number;
  motion_today: number;
  last_woken_by: { requester: string; kind: RequesterKind; at: string } | null;
  /** Requesters that woke it more than the drain threshold in the last 24 hours. */
  drain: { requester: string; wakes: number; threshold: number }[];
}

/**
 * The history fields of each camera at `now`, for one `/api/cameras` document: the drains of
 * every camera are computed once, not once per camera.
 */
export function historyFieldsOf(
  store: HistoryStore,
  now: number,
): (uid: string) => CameraHistoryFields {
  const drains = new Map<string, DrainReport[]>();
  for (const drain of store.drains(now)) {
    drains.set(drain.uid, [...drains.get(drain.uid) ?? [], drain]);
  }
  return (uid) => {
    const summary = store.summary(uid, now);
    const last = summary.lastWokenBy;
    return {
      wakes_today: summary.wakesToday,
      motion_today: summary.motionToday,
      last_woken_by: last && { requester: last.requester, kind: last.kind, at: iso(last.at) },
      drain: (drains.get(uid) ?? []).map(({ requester, wakes, threshold }) => ({
        requester,
        wakes,
        threshold,
      })),
    };
  };
}

/** Why `since` cannot be read. */
export class SinceError extends Error {}

/**
 * `since` as ms since the epoch: an ISO 8601 time, or a duration back from `now` such as
 * "90m", "24h" or "7d". Throws SinceError naming both forms.
 */
export function parseSince(text: string, now: number): number {
  const duration = /^(\d{1,6})([mhd])$/.exec(text);
  if (duration !== null) {
    const unit = { m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS }[duration[2] as "m" | "h" | "d"];
    return now - Number(duration[1]) * unit;
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) {
    throw new SinceError(
      `since must be an ISO time (2026-12-06T08:00:00Z) or a duration such as 90m, 24h or 7d ` +
        `(got ${JSON.stringify(text.slice(0, 64))})`,
    );
  }
  return at;
}

/** The camera `target` names (configured name, short or long UID), or null when unknown. */
export function historyCamera(
  target: string,
  store: HistoryStore,
  registry: Pick<RegistryView, "configured" | "nameFor" | "lookupFresh">,
): { uid: string; name: string | null } | null {
  const configured = registry.configured.find((camera) => camera.name === target);
  const wanted = configured?.uid ?? target;
  const uid = store.get(wanted) !== undefined
    ? wanted
    : store.uids().find((uid) => wanted.length >= SHORT_UID_LENGTH && uid.startsWith(wanted)) ??
      registry.lookupFresh(wanted)?.uid ??
      registry.configured.find((camera) => camera.uid === wanted)?.uid;
  if (uid === undefined) return null;
  return { uid, name: registry.nameFor(uid) ?? null };
}

/** One event as the history document shows it (times ISO 8601 UTC). */
export type HistoryEventDocument =
  | { type: "registered"; at: string; address: string }
  | { type: "offline"; from: string; to: string }
  | { type: "motion"; at: string }
  | {
    type: "wake";
    at: string;
    requester: string;
    kind: RequesterKind;
    result: "started" | "refused";
    acknowledged: boolean;
    count: number;
  };

/** The `GET /api/cameras/{camera}/history` document. */
export interface HistoryDocument {
  uid: string;
  name: string | null;
  since: string;
  now: string;
  retention_days: number;
  cadence_ms: number | null;
  events: HistoryEventDocument[];
  hours: {
    hour: string;
    wakes: number;
    refused: number;
    motion: number;
    heartbeats: number;
    by_requester: Record<string, number>;
  }[];
  requesters: RequesterTotal[];
  drain: CameraHistoryFields["drain"];
}

/** What the history route needs. */
export interface HistoryRouteDeps {
  store: HistoryStore;
  registry: Pick<RegistryView, "configured" | "nameFor" | "lookupFresh">;
  now: () => number;
}

/**
 * `GET /api/cameras/{camera}/history?since=...`: 200 with the history since `since` (default
 * 24 h ago, never before the retention), 400 for a bad `since`, 404 for an unknown camera.
 */
export function historyRoute(deps: HistoryRouteDeps): Route {
  return {
    method: "GET",
    path: "/api/cameras/:camera/history",
    handle: (request, params) => {
      const now = deps.now();
      const sinceText = new URL(request.url).searchParams.get("since");
      let since = now - DEFAULT_HISTORY_SINCE_MS;
      try {
        if (sinceText !== null) since = parseSince(sinceText, now);
      } catch (error) {
        if (!(error instanceof SinceError)) throw error;
        return errorResponse(400, error.message);
      }
      since = Math.max(since, now - deps.store.options.retentionMs);
      const camera = historyCamera(params.camera, deps.store, deps.registry);
      if (camera === null) {
        return errorResponse(404, `no camera ${params.camera} (neither configured nor seen)`, {
          camera: params.camera,
        });
      }
      const report = deps.store.report(camera.uid, since, now);
      const document: HistoryDocument = {
        uid: camera.uid,
        name: camera.name,
        since: iso(since),
        now: iso(now),
        retention_days: deps.store.options.retentionMs / (24 * HOUR_MS),
        cadence_ms: report?.cadenceMs ?? null,
        events: (report?.events ?? []).map(eventDocument),
        hours: (report?.hours ?? []).map((bucket) => ({
          hour: iso(bucket.hour),
          wakes: bucket.wakes,
          refused: bucket.refused,
          motion: bucket.motion,
          heartbeats: bucket.heartbeats,
          by_requester: bucket.byRequester,
        })),
        requesters: report?.requesters ?? [],
        drain: historyFieldsOf(deps.store, now)(camera.uid).drain,
      };
      return jsonResponse(200, document);
    },
  };
}

/** One event with ISO times. */
function eventDocument(event: HistoryEvent): HistoryEventDocument {
  switch (event.type) {
    case "offline":
      return { type: "offline", from: iso(event.from), to: iso(event.to) };
    case "wake":
      return {
        type: "wake",
        at: iso(event.at),
        requester: event.requester,
        kind: event.kind,
        result: event.result,
        acknowledged: event.acknowledged,
        count: event.count,
      };
    default:
      return { ...event, at: iso(event.at) };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
