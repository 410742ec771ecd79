/** Starts a real wake server for tests: loopback, ephemeral ports, no persistence. */

import {
  DEFAULT_WAKE_SERVER_OPTIONS,
  startWakeServer,
  type WakeServer,
  type WakeServerDeps,
  type WakeServerOptions,
} from "../../lib/wake/server.ts";

/** Options for a test server: the defaults on 127.0.0.1 with ephemeral ports. */
export function testServerOptions(overrides: Partial<WakeServerOptions> = {}): WakeServerOptions {
  return {
    ...DEFAULT_WAKE_SERVER_OPTIONS,
    bind: "127.0.0.1",
    middlemanPort: 0,
    registerPort: 0,
    ...overrides,
  };
}

/** Starts a wake server on 127.0.0.1 (ephemeral ports) with `overrides`; close it after. */
export function startTestServer(
  overrides: Partial<WakeServerOptions> = {},
  deps: WakeServerDeps = {},
): Promise<WakeServer> {
  return startWakeServer(testServerOptions(overrides), deps);
}

/** A manually advanced clock for `deps.now`. */
export class FakeClock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
