/**
 * Feeds the MQTT bridge from serve's bus: registrations and heartbeats (registered on, last
 * heartbeat), stale cameras (registered off), wakes started and motion on/off, and each
 * camera's day from its history (wakes and motion today, last woken by, wakes in the last
 * hour). Starts with the registry as loaded from the state file, and on close publishes `off`
 * for motion still on.
 */

import type { Clock } from "../clock.ts";
import { HOUR_MS } from "../history/hours.ts";
import type { CameraDaySummary } from "../history/store.ts";
import type { CameraRef, MqttBridge, MqttBridgeOptions } from "../mqtt/bridge.ts";
import type { RegistryView } from "../wake/registry.ts";
import type { WakeOutcome } from "../wake/types.ts";
import type { ServeBus } from "./bus.ts";

/** What the feed needs besides the bridge's options. */
export interface MqttFeedDeps {
  bus: ServeBus;
  registry: Pick<RegistryView, "list" | "isFresh" | "nameFor">;
  /** Configured cameras, announced before any registers. */
  cameras: readonly { name: string; uid: string }[];
  /** Wakes a camera asked for over MQTT (`control/wakeup`). */
  wake(target: string): WakeOutcome;
  /** A camera's day from its history (`HistoryStore.summary`); absent without history. */
  daySummary?: (uid: string, now: number) => CameraDaySummary;
  clock: Clock;
}

/**
 * How often every camera's day is published again besides after its wakes and motion: the
 * last hour's wakes age and "today" turns at midnight without any event.
 */
export const DAY_SUMMARY_INTERVAL_MS = HOUR_MS / 4;

/** A running bridge and its feed. */
export interface MqttFeed {
  readonly bridge: MqttBridge;
  /** Stops listening, turns motion still on off on the broker, closes the bridge. */
  close(): Promise<void>;
}

/**
 * Starts the bridge and subscribes it to the bus. Throws MqttConfigError when a TLS file
 * cannot be read (a broker that is down is not an error).
 */
export async function startMqttFeed(
  options: MqttBridgeOptions,
  deps: MqttFeedDeps,
): Promise<MqttFeed> {
  const { bus, registry } = deps;
  // The MQTT client is loaded only when a broker is configured: it is most of the
  // program's start-up memory, which other setups and subcommands should not pay.
  const { MqttBridge } = await import("../mqtt/bridge.ts");
  const bridge = MqttBridge.start(options, { wake: deps.wake, clock: deps.clock });
  const cameraRef = (uid: string): CameraRef => {
    const name = registry.nameFor(uid);
    return name === undefined ? { uid } : { uid, name };
  };
  for (const camera of deps.cameras) bridge.declare(camera);
  for (const entry of registry.list()) {
    const fresh = registry.isFresh(entry);
    if (!fresh && registry.nameFor(entry.uid) === undefined) continue;
    const { lastMotion, lastWake } = entry;
    bridge.setHistory(cameraRef(entry.uid), { lastMotion, lastWake });
    if (fresh) bridge.setHeartbeat(cameraRef(entry.uid), entry.lastHeartbeat);
  }

  const known = new Set([
    ...deps.cameras.map((camera) => camera.uid),
    ...registry.list().map((entry) => entry.uid),
  ]);
  const publishDay = (uid: string) => {
    if (deps.daySummary === undefined) return;
    known.add(uid);
    bridge.setDaySummary(cameraRef(uid), deps.daySummary(uid, deps.clock.now()));
  };
  // The registry's entries carry long UIDs, the config short ones: the registry's win.
  for (const entry of registry.list()) publishDay(entry.uid);
  for (const camera of deps.cameras) {
    if (!registry.list().some((entry) => entry.uid.startsWith(camera.uid))) publishDay(camera.uid);
  }
  let timer: unknown;
  const republish = () => {
    for (const uid of known) publishDay(uid);
    timer = deps.clock.setTimeout(republish, DAY_SUMMARY_INTERVAL_MS);
  };
  if (deps.daySummary !== undefined) {
    timer = deps.clock.setTimeout(republish, DAY_SUMMARY_INTERVAL_MS);
  }

  const moving = new Set<string>();
  const unsubscribers = [
    bus.on("registered", (event) => bridge.setHeartbeat(cameraRef(event.uid), event.at)),
    bus.on("heartbeat", (event) => bridge.setHeartbeat(cameraRef(event.uid), event.at)),
    bus.on("deregistered", (event) => bridge.setRegistered(cameraRef(event.uid), false)),
    bus.on("wake", (event) => {
      if (event.result !== "started") return;
      bridge.recordWake(cameraRef(event.uid), event.at);
      publishDay(event.uid);
    }),
    bus.on("motion", (event) => {
      if (event.motion) moving.add(event.uid);
      else moving.delete(event.uid);
      bridge.setMotion(cameraRef(event.uid), event.motion, event.at);
      if (event.motion) publishDay(event.uid);
    }),
  ];
  let closing: Promise<void> | null = null;
  return {
    bridge,
    close: () =>
      closing ??= (async () => {
        unsubscribers.forEach((unsubscribe) => unsubscribe());
        if (timer !== undefined) deps.clock.clearTimeout(timer);
        // Nobody will send the `off` after we are gone: send it now rather than leave it on.
        for (const uid of moving) bridge.setMotion(cameraRef(uid), false);
        await bridge.close();
      })(),
  };
}
