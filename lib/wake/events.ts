/** The wake server's event subscribers (API, MQTT, tests). */

import { logger } from "./log.ts";
import type { WakeServerEvent } from "./types.ts";

/** Subscribers to wake server events; a failing subscriber is logged, never fatal. */
export class WakeEvents {
  /**
   * Replaced, never changed in place, so `emit` can walk it with an index (no iterator per
   * event: one per heartbeat) while a listener unsubscribes.
   */
  private listeners: readonly ((event: WakeServerEvent) => void)[] = [];

  /** True when someone listens: the heartbeat path builds its event only then. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: WakeServerEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  /** Hands `event` to every subscriber. */
  emit(event: WakeServerEvent): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](event);
      } catch (error) {
        logger.error("Wake event listener failed: {error}", { error });
      }
    }
  }
}
