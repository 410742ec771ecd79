/**
 * A tiny typed, synchronous event bus: publishers and subscribers meet here instead of holding
 * each other. Subsystems take only the slice they use (`EventSource` to listen, `EventSink` to
 * publish), so a room names its own events and never the whole set.
 */

import { getLogger } from "@logtape/logtape";

const logger = getLogger(["bairelay", "events"]);

/** The event of `E` whose `type` is `T`. */
export type EventOf<E extends { type: string }, T extends E["type"]> = Extract<E, { type: T }>;

/**
 * Where events of one kind `E` can be listened to (a subsystem's slice of a bus: a plain
 * signature, which a bus of more kinds satisfies).
 */
export interface EventSource<E extends { type: string }> {
  /** Calls `listener` with every later event of `type`; returns the unsubscribe function. */
  on(type: E["type"], listener: (event: E) => void): () => void;
}

/** Where events of `E` can be published. */
export interface EventSink<E extends { type: string }> {
  /** Hands `event` to its listeners at once, in the order they subscribed. */
  emit(event: E): void;
}

type Listener = (event: never) => void;

/** The bus. A listener that throws is logged and the others still run. */
export class EventBus<E extends { type: string }> {
  /**
   * Listeners by event type. Each list is replaced, never changed in place, so `emit` walks
   * it with an index and no copy (it runs for every heartbeat).
   */
  readonly #listeners = new Map<string, readonly Listener[]>();

  on<T extends E["type"]>(type: T, listener: (event: EventOf<E, T>) => void): () => void {
    this.#listeners.set(type, [...this.#listeners.get(type) ?? [], listener]);
    return () => {
      const remaining = (this.#listeners.get(type) ?? []).filter((other) => other !== listener);
      if (remaining.length === 0) this.#listeners.delete(type);
      else this.#listeners.set(type, remaining);
    };
  }

  emit(event: E): void {
    const listeners = this.#listeners.get(event.type);
    if (listeners === undefined) return;
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as (event: E) => void)(event);
      } catch (error) {
        logger.error("A {type} event listener failed: {error}", { type: event.type, error });
      }
    }
  }
}
