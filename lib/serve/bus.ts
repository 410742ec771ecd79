/**
 * Serve's event bus: every event its subsystems publish. The wake server publishes
 * registrations, heartbeats, stale cameras and wakes; the push side publishes motion seen and
 * motion on/off; the events log, the MQTT feed, wake-on-motion and the registry's motion
 * record subscribe.
 */

import { EventBus } from "../event_bus.ts";
import type { MotionChangeEvent } from "../push/motion.ts";
import type { MotionSeenEvent, WakeServerEvent } from "../wake/types.ts";

/** Any event on serve's bus. */
export type ServeEvent = WakeServerEvent | MotionSeenEvent | MotionChangeEvent;

/** The bus `startService` makes once and hands to each subsystem. */
export type ServeBus = EventBus<ServeEvent>;

/** A new, empty bus. */
export function createServeBus(): ServeBus {
  return new EventBus<ServeEvent>();
}
