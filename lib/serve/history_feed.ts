/**
 * Feeds each camera's history from serve's bus: registrations, heartbeats, motion starting,
 * wakes with their requester (started or refused by the budget) and the camera's answers.
 * Loads the history file at start, writes it at the state file's relaxed pace and on close,
 * counts wakes per camera and requester kind for `/metrics`, and warns once a day per camera
 * and requester that wakes a camera more than `drain_wakes_per_day`.
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../clock.ts";
import type { HistoryConfig } from "../history/config.ts";
import { historyOptions } from "../history/config.ts";
import { HistoryFile } from "../history/file.ts";
import { HOUR_MS } from "../history/hours.ts";
import { type NamedClient, RequesterNames } from "../history/requesters.ts";
import { drainAdvice, HistoryStore } from "../history/store.ts";
import type { Metrics } from "../metrics.ts";
import { ThrottledWriter } from "../storage/throttled_writer.ts";
import type { RegistryView } from "../wake/registry.ts";
import type { ServeBus } from "./bus.ts";

const log = getLogger(["bairelay", "history"]);

/** How often, besides after each started wake, old history is dropped and drains are checked. */
export const HISTORY_CHECK_INTERVAL_MS = HOUR_MS;
/**
 * How often heartbeat counts alone get the history file written: a camera heartbeats every few
 * seconds, and rewriting the whole file at the relaxed pace for a count would wear an SD card.
 * Close writes them too; a power cut loses at most this much of the hourly heartbeat counts.
 */
export const HEARTBEAT_FLUSH_INTERVAL_MS = 10 * 60_000;

/** What the history feed needs. */
export interface HistoryFeedDeps {
  bus: ServeBus;
  registry: Pick<RegistryView, "nameFor" | "lookupFresh" | "maxCameras" | "configured">;
  history: HistoryConfig;
  clients: readonly NamedClient[];
  stateDir: string;
  metrics: Metrics;
  /** The time and the timer of the periodic check (tests drive them). */
  clock: Clock;
}

/** The running history. */
export interface HistoryFeed {
  readonly store: HistoryStore;
  /** Stops listening and writes the history one last time. */
  close(): Promise<void>;
}

/** Loads the history file, then subscribes the store to the bus. Never throws on a bad file. */
export async function startHistoryFeed(deps: HistoryFeedDeps): Promise<HistoryFeed> {
  const { bus, registry, clock } = deps;
  const names = new RequesterNames(deps.clients);
  const configured = (uid: string) => registry.nameFor(uid) !== undefined;
  const store = new HistoryStore(
    // The configured cameras get room beyond the registry's bound: they are never evicted.
    historyOptions(deps.history, registry.maxCameras + registry.configured.length),
    names,
    configured,
  );
  const file = new HistoryFile(deps.stateDir);
  const loaded = await file.load(store, clock.now());
  for (const leftover of loaded.removed) {
    log.info("Removed {leftover}, left by a run that was killed while saving", { leftover });
  }
  if (loaded.problem !== undefined) {
    const { message, movedTo } = loaded.problem;
    log.warn(
      movedTo === undefined
        ? "{message}; starting with an empty history"
        : "{message}; starting with an empty history (moved to {movedTo})",
      { message, movedTo },
    );
  }
  // The history file is larger than the state file and matters less after a power cut: every
  // change waits for the relaxed pace (a flood of wakes costs one write per 15 s at most), and
  // heartbeat counts alone wait for HEARTBEAT_FLUSH_INTERVAL_MS.
  const writer = new ThrottledWriter(
    () => file.save(store, clock.now()),
    (error) => log.warn("Cannot write history file {path}: {error}", { path: file.path, error }),
  );
  let heartbeatsPending = false;
  const changed = () => {
    heartbeatsPending = false;
    writer.markDirty(false);
  };
  const flushHeartbeats = () => {
    if (heartbeatsPending) changed();
  };
  const wakes = deps.metrics.counter(
    "bairelay_camera_wakes_total",
    "Wake requests by camera, requester kind and result (requester: a name from [[clients]])",
  );
  const cameraName = (uid: string) => registry.nameFor(uid) ?? uid;
  // Only cameras the registry holds or the config names get a history (a wake refused as
  // not registered names whatever UID a client sent).
  const known = (uid: string) => configured(uid) || registry.lookupFresh(uid) !== undefined;

  // After a wake only the camera woken is looked at: a busy hour must not cost a pass over
  // every camera's history per wake.
  const warnDrains = (only?: string) => {
    const now = clock.now();
    for (const drain of store.drainsToWarn(now, only)) {
      // Placeholders: the names go in as the line's properties, as in every other log line.
      log.warn(drainAdvice({ ...drain, requester: "{requester}" }, "{camera}"), {
        ...drain,
        camera: cameraName(drain.uid),
      });
    }
  };
  const unsubscribers = [
    bus.on("registered", (event) => {
      store.registered(event.uid, event.at, `${event.address.ip}:${event.address.port}`);
      changed();
    }),
    bus.on("heartbeat", (event) => {
      if (store.heartbeat(event.uid, event.at)) changed();
      else heartbeatsPending = true;
    }),
    bus.on("motion", (event) => {
      if (!event.motion || !known(event.uid)) return;
      store.motion(event.uid, event.at);
      changed();
    }),
    bus.on("wake", (event) => {
      if (event.result === "not_registered" || !known(event.uid)) return;
      const { requester } = event;
      wakes.inc({
        camera: cameraName(event.uid),
        kind: requester.kind,
        ...(names.isNamed(requester) ? { requester: names.label(requester) } : {}),
        result: event.result,
      });
      if (event.result === "in_flight") return;
      const result = event.result === "started" ? "started" : "refused";
      store.wake(event.uid, event.at, requester, result, event.sid);
      changed();
      if (result === "started") warnDrains(event.uid);
    }),
    bus.on("wake_confirmed", (event) => {
      store.acknowledged(event.uid, event.sid);
      changed();
    }),
  ];
  let timer: unknown;
  let flushTimer: unknown;
  let closed = false;
  const flushTick = () => {
    flushHeartbeats();
    if (!closed) flushTimer = clock.setTimeout(flushTick, HEARTBEAT_FLUSH_INTERVAL_MS);
  };
  flushTimer = clock.setTimeout(flushTick, HEARTBEAT_FLUSH_INTERVAL_MS);
  const tick = () => {
    store.prune(clock.now());
    changed();
    warnDrains();
    if (!closed) timer = clock.setTimeout(tick, HISTORY_CHECK_INTERVAL_MS);
  };
  timer = clock.setTimeout(tick, HISTORY_CHECK_INTERVAL_MS);
  return {
    store,
    async close() {
      if (closed) return;
      closed = true;
      clock.clearTimeout(timer);
      clock.clearTimeout(flushTimer);
      unsubscribers.forEach((unsubscribe) => unsubscribe());
      flushHeartbeats();
      await writer.close();
    },
  };
}
