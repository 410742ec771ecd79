/**
 * Starts a real wake server for tests (loopback, ephemeral ports, no persistence), alone or
 * as a rig with one simulated camera and one client.
 */

import {
  DEFAULT_WAKE_SERVER_OPTIONS,
  startWakeServer,
  type WakeServer,
  type WakeServerDeps,
  type WakeServerLinks,
  type WakeServerOptions,
} from "../../lib/wake/server.ts";
import { CameraSim, type CameraSimOptions } from "./camera_sim.ts";
import { ClientSim } from "./client_sim.ts";

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
  deps: WakeServerDeps & WakeServerLinks = {},
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

/** A wake server with one simulated camera and one client, for `withWakeRig`. */
export interface WakeRig {
  server: WakeServer;
  camera: CameraSim;
  client: ClientSim;
}

/** Options for `withWakeRig`. */
export interface WakeRigOptions {
  /** Server option overrides (see `testServerOptions`). */
  server?: Partial<WakeServerOptions>;
  deps?: WakeServerDeps;
  /** Camera options (default: UID `95270000ABCDEFGH0123` on 127.0.0.1). */
  camera?: Partial<CameraSimOptions>;
}

/** The long UID of the rig's camera; `RIG_SHORT_UID` is its sticker (short) form. */
export const RIG_UID = "95270000ABCDEFGH0123";
export const RIG_SHORT_UID = "95270000ABCDEFGH";

/**
 * Starts a test server, a camera (not booted) and a client, runs `fn`, and closes all
 * three whatever happens.
 */
export async function withWakeRig(
  options: WakeRigOptions,
  fn: (rig: WakeRig) => Promise<void>,
): Promise<void> {
  const server = await startTestServer(options.server, options.deps);
  let camera: CameraSim | undefined;
  let client: ClientSim | undefined;
  try {
    camera = await CameraSim.start({
      uid: RIG_UID,
      middleman: server.middleman,
      ...options.camera,
    });
    client = await ClientSim.start();
    await fn({ server, camera, client });
  } finally {
    await client?.close();
    await camera?.close();
    await server.close();
  }
}
