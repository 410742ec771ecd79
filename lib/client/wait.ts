/**
 * After a wake: probe the camera's TCP port (9000, the Baichuan port) until it accepts a
 * connection, to learn when the camera came online.
 */

import net from "node:net";
import type { Endpoint } from "./endpoint.ts";
import { type Clock, systemClock } from "../clock.ts";

/** Where to probe and for how long. */
export interface WaitRequest {
  /** The camera's IP and TCP port (usually 9000). */
  camera: Endpoint;
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between attempts (default 250 ms). */
  intervalMs?: number;
  /** Longest a single connection attempt may take (default 1000 ms). */
  attemptTimeoutMs?: number;
}

/** One connection attempt: resolves undefined when the port accepted, else why not. */
export type ProbePort = (camera: Endpoint, timeoutMs: number) => Promise<string | undefined>;

/** How waiting for the camera ended. */
export type WaitOutcome =
  | { result: "online"; camera: Endpoint; onlineMs: number; attempts: number }
  | {
    result: "timeout";
    camera: Endpoint;
    elapsedMs: number;
    attempts: number;
    lastError?: string;
  };

/** Default pause between connection attempts. */
export const PROBE_INTERVAL_MS = 250;
/** Default limit of one connection attempt (a sleeping camera drops SYNs silently). */
export const PROBE_ATTEMPT_TIMEOUT_MS = 1000;

/** The default probe: a `node:net` connection, closed as soon as it is established. */
export const probeTcpPort: ProbePort = (camera, timeoutMs) =>
  new Promise((resolve) => {
    const socket = net.createConnection({ host: camera.ip, port: camera.port });
    const done = (error?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once("connect", () => done());
    socket.once("error", (error: Error & { code?: string }) => done(error.code ?? error.message));
  });

/**
 * Tries to connect to `request.camera` every `intervalMs` until a connection succeeds or
 * `timeoutMs` passes; reports how long the camera took to open its port.
 */
export async function waitForCameraPort(
  request: WaitRequest,
  deps: { probe?: ProbePort; clock?: Clock } = {},
): Promise<WaitOutcome> {
  const clock = deps.clock ?? systemClock;
  const probe = deps.probe ?? probeTcpPort;
  const interval = request.intervalMs ?? PROBE_INTERVAL_MS;
  const start = clock.now();
  const deadline = start + request.timeoutMs;
  let attempts = 0;
  let lastError: string | undefined;
  while (true) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) break;
    attempts++;
    const attemptLimit = Math.min(request.attemptTimeoutMs ?? PROBE_ATTEMPT_TIMEOUT_MS, remaining);
    lastError = await probe(request.camera, attemptLimit);
    if (lastError === undefined) {
      return { result: "online", camera: request.camera, onlineMs: clock.now() - start, attempts };
    }
    const pause = Math.min(interval, deadline - clock.now());
    if (pause <= 0) break;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, pause));
  }
  return {
    result: "timeout",
    camera: request.camera,
    elapsedMs: clock.now() - start,
    attempts,
    lastError,
  };
}
