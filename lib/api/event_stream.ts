/**
 * `GET /api/events/stream`: the recent-events log as it happens, as Server-Sent Events, so the
 * status page shows motion the moment a push arrives. Each event is one `data:` line of JSON
 * (the `GET /api/events` document of that event); a `: heartbeat` comment every 15 s keeps
 * proxies and browsers from timing out a quiet stream. The number of clients is bounded
 * (`[api] max_event_streams`), and a client that stops reading is dropped rather than let its
 * queue grow.
 */

import type { Route } from "./http.ts";
import { errorResponse } from "./json_response.ts";
import { eventDocument, type RecentEvent, type RecentEvents } from "./events.ts";

/** How often a quiet stream gets a heartbeat comment. */
export const EVENT_STREAM_HEARTBEAT_MS = 15_000;

/** Chunks queued for a client that does not read before it is dropped. */
export const MAX_QUEUED_CHUNKS = 256;

/** How the browser should wait before reconnecting (the SSE `retry:` field). */
const RETRY_MS = 2000;

/** Options for `EventStreams`. */
export interface EventStreamsOptions {
  /** Most clients at once; one more is answered 503. */
  maxClients: number;
  /** Heartbeat comment interval (default EVENT_STREAM_HEARTBEAT_MS). */
  heartbeatMs?: number;
}

const encoder = new TextEncoder();

/** The live clients of `GET /api/events/stream`, fed from a `RecentEvents` log. */
export class EventStreams {
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #maxClients: number;
  readonly #heartbeatMs: number;
  readonly #unsubscribe: () => void;
  /** Runs only while a client is connected. */
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(events: RecentEvents, options: EventStreamsOptions) {
    if (!(Number.isInteger(options.maxClients) && options.maxClients > 0)) {
      throw new RangeError(`maxClients must be a positive integer, got ${options.maxClients}`);
    }
    this.#maxClients = options.maxClients;
    this.#heartbeatMs = options.heartbeatMs ?? EVENT_STREAM_HEARTBEAT_MS;
    // No frame is made while nobody listens (1,024 cameras registering are 1,024 events).
    this.#unsubscribe = events.subscribe((event) => {
      if (this.#clients.size > 0) this.#send(frame(event));
    });
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** `GET /api/events/stream`: 200 text/event-stream, or 503 when every slot is taken. */
  route(): Route {
    return {
      method: "GET",
      path: "/api/events/stream",
      handle: () => this.#open(),
    };
  }

  /** Ends every stream (clients see a clean end) and stops the heartbeat. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const client of this.#clients) {
      this.#remove(client);
      client.close();
    }
  }

  #open(): Response {
    if (this.#closed) return errorResponse(503, "the server is stopping");
    if (this.#clients.size >= this.#maxClients) {
      return errorResponse(
        503,
        `too many event streams open (${this.#maxClients}, [api] max_event_streams); close a ` +
          "status page or raise the limit",
        {},
        { "retry-after": "5" },
      );
    }
    let self: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#clients.add(controller);
        this.#heartbeat ??= setInterval(
          () => this.#send(encoder.encode(": heartbeat\n\n")),
          this.#heartbeatMs,
        );
        controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n: connected\n\n`));
      },
      cancel: () => this.#remove(self),
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  #send(chunk: Uint8Array): void {
    for (const client of this.#clients) {
      // desiredSize falls below zero by one per chunk the client has not read yet.
      if ((client.desiredSize ?? 0) < -MAX_QUEUED_CHUNKS) {
        this.#remove(client);
        client.error(new Error("event stream client stopped reading"));
        continue;
      }
      try {
        client.enqueue(chunk);
      } catch {
        this.#remove(client); // closed or errored meanwhile
      }
    }
  }

  #remove(client: ReadableStreamDefaultController<Uint8Array>): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0 && this.#heartbeat !== undefined) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }
}

/** One event as an SSE frame: a single `data:` line of JSON and the blank line ending it. */
function frame(event: RecentEvent): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(eventDocument(event))}\n\n`);
}
