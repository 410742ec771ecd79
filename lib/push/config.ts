/** The push listener's part of the config file, `[push_listener]`. */

import type { ConfigReader, Table } from "../config/reader.ts";
import { PORT_BOUNDS, type SectionSpec, type SectionValues } from "../config/spec.ts";

/** `[push_listener]`. */
export const PUSH_LISTENER_SPEC = {
  enable: { type: "boolean", default: true, help: "run the push listener (motion events)" },
  bind: { type: "string", help: "address the push listener binds (default: the top-level bind)" },
  port: { ...PORT_BOUNDS, default: 443, help: "push listener TCP port" },
  motion_hold_secs: {
    type: "integer",
    default: 30,
    min: 1,
    max: 3600,
    help: "seconds motion stays on after the last push",
  },
  wake_on_motion: { type: "boolean", default: true, help: "wake the camera when motion starts" },
  sni_timeout_ms: {
    type: "integer",
    default: 200,
    min: 0,
    max: 5000,
    help: "how long a push may take to send its ClientHello, for the SNI (ms); 0 = no read",
  },
  max_connections: {
    type: "integer",
    default: 256,
    min: 1,
    max: 65_536,
    help: "push connections held open at once for the SNI read (a flood cannot exhaust fds)",
  },
} as const satisfies SectionSpec;

/** `[push_listener]` as read. */
export type PushListenerConfig = Omit<SectionValues<typeof PUSH_LISTENER_SPEC>, "bind"> & {
  bind: string;
  /**
   * The user asked for the push listener (`--push-port`, or `port`/`enable` in
   * `[push_listener]`): then a bind failure is fatal. Otherwise the default port 443 without
   * the privilege to bind it turns the listener off with a warning.
   */
  explicit: boolean;
};

/** `[push_listener]`; `bind` is the top-level bind unless the section sets its own. */
export function readPushListener(
  reader: ConfigReader,
  push: Table,
  bind: string,
): PushListenerConfig {
  const values = reader.values(push, PUSH_LISTENER_SPEC, "push_listener");
  return {
    ...values,
    explicit: push.port !== undefined || push.enable !== undefined,
    bind: reader.address("push_listener.bind", values.bind, bind),
  };
}
