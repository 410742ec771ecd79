/**
 * The wake server's part of the config file: the top-level `bind` and `state_dir`,
 * `[wake_server]` and the operator's `[[cameras]]`. The specs hold every key's default and
 * bounds once; `WakeServerConfig` is inferred from them.
 */

import { isAbsolute, join, resolve } from "../paths.ts";
import { MAX_UID_LENGTH, MIDDLEMAN_PORT, REGISTER_PORT } from "../bcudp/constants.ts";
import { type ConfigEnv, type ConfigReader, isTable, show, type Table } from "../config/reader.ts";
import { MS_MAX, PORT_BOUNDS, type SectionSpec, type SectionValues } from "../config/spec.ts";
import { DEFAULT_RECEIVE_BUFFER_BYTES, MAX_RECEIVE_BUFFER_BYTES } from "../net/receive_buffer.ts";

/** The top-level keys. */
export const ROOT_SPEC = {
  bind: { type: "string", default: "0.0.0.0", help: "address the UDP listeners bind" },
  state_dir: { type: "string", help: "where the registry is saved" },
} as const satisfies SectionSpec;

/** `[wake_server]`. */
export const WAKE_SERVER_SPEC = {
  enable: { type: "boolean", default: true, help: "run the wake server" },
  middleman_port: { ...PORT_BOUNDS, default: MIDDLEMAN_PORT, help: "middleman UDP port" },
  register_port: { ...PORT_BOUNDS, default: REGISTER_PORT, help: "register UDP port" },
  heartbeat_ms: {
    type: "integer",
    default: 20_000,
    min: 1000,
    max: MS_MAX,
    help: "advisory heartbeat interval asked of cameras (ms)",
  },
  stale_after_ms: {
    type: "integer",
    default: 80_000,
    min: 1000,
    max: MS_MAX,
    help: "a camera without a heartbeat for this long reads as absent and is evicted (ms)",
  },
  max_wakes_per_hour: {
    type: "integer",
    default: 60,
    min: 0,
    max: 3600,
    help: "wake bursts per camera per sliding hour; 0 = unlimited",
  },
  burst_count: {
    type: "integer",
    default: 10,
    min: 1,
    max: 100,
    help: "R2D_C packets per wake",
  },
  burst_interval_ms: {
    type: "integer",
    default: 100,
    min: 1,
    max: 10_000,
    help: "spacing of the R2D_C packets in a burst (ms)",
  },
  anchor_ttl_ms: {
    type: "integer",
    default: 300_000,
    min: 1000,
    max: MS_MAX,
    help: "how long a D2M_Q session anchor waits for its D2R_R (ms)",
  },
  max_cameras: {
    type: "integer",
    default: 1024,
    min: 1,
    max: 65_536,
    help: "most cameras held; new UIDs are refused when full",
  },
  max_anchors: {
    type: "integer",
    default: 1024,
    min: 1,
    max: 65_536,
    help: "most session anchors held; new ones are refused when full",
  },
  receive_buffer_bytes: {
    type: "integer",
    default: DEFAULT_RECEIVE_BUFFER_BYTES,
    min: 0,
    max: MAX_RECEIVE_BUFFER_BYTES,
    help: "kernel receive buffer asked for each UDP listener (bytes); 0 = the kernel's default",
  },
} as const satisfies SectionSpec;

/** Each `[[cameras]]` entry. */
export const CAMERAS_SPEC = {
  name: { type: "string", help: "the camera's name in API URLs, `wake` and MQTT topics" },
  uid: { type: "string", help: "the UID printed on the camera" },
} as const satisfies SectionSpec;

/** `[wake_server]` as read. */
export type WakeServerConfig = SectionValues<typeof WAKE_SERVER_SPEC>;

/** A camera the operator named in `[[cameras]]`. */
export interface CameraConfig {
  name: string;
  uid: string;
}

/**
 * The default state directory: /var/lib/bairelay for root (a system service), else
 * $XDG_STATE_HOME/bairelay, else ~/.local/state/bairelay, else ./bairelay-state.
 */
export function defaultStateDir(env: ConfigEnv): string {
  if (env.uid === 0) return "/var/lib/bairelay";
  if (env.vars.XDG_STATE_HOME) return join(env.vars.XDG_STATE_HOME, "bairelay");
  if (env.vars.HOME) return join(env.vars.HOME, ".local", "state", "bairelay");
  return resolve(Deno.cwd(), "bairelay-state");
}

/** The top-level keys: the bind address and the state directory (made absolute). */
export function readRoot(reader: ConfigReader, root: Table): { bind: string; stateDir: string } {
  const values = reader.values(root, ROOT_SPEC, "");
  return {
    bind: reader.address("bind", values.bind, ROOT_SPEC.bind.default),
    stateDir: stateDir(reader, reader.nonEmpty("state_dir", values.stateDir)),
  };
}

function stateDir(reader: ConfigReader, value: string | null): string {
  if (value === null) return defaultStateDir(reader.env);
  const home = reader.env.vars.HOME;
  if (value.startsWith("~/") && home) return join(home, value.slice(2));
  if (isAbsolute(value)) return value;
  // A relative path in the file is relative to the file; from --state-dir, to the cwd.
  return reader.fromFlag("state_dir") ? resolve(Deno.cwd(), value) : resolve(reader.baseDir, value);
}

/** The `[[cameras]]` entries: each needs a unique name and a unique, well-formed UID. */
export function readCameras(reader: ConfigReader, raw: unknown): CameraConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    reader.fail("cameras", "must be an array of tables ([[cameras]] entries)");
    return [];
  }
  const cameras: CameraConfig[] = [];
  const names = new Map<string, number>();
  const uids = new Map<string, number>();
  raw.forEach((entry, index) => {
    const path = `cameras[${index}]`;
    reader.table(entry, "cameras[]", path);
    if (!isTable(entry)) return;
    const { name, uid } = reader.values(entry, CAMERAS_SPEC, path);
    if (name === undefined) reader.fail(`${path}.name`, "is required (a name for the camera)");
    else if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      reader.fail(
        `${path}.name`,
        "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit " +
          `(it appears in API URLs and MQTT topics) (got ${show(name)})`,
      );
    } else if (names.has(name)) {
      reader.fail(`${path}.name`, `must be unique; cameras[${names.get(name)}] is also "${name}"`);
    } else names.set(name, index);
    const bytes = uid === undefined ? 0 : new TextEncoder().encode(uid).length;
    if (uid === undefined) {
      reader.fail(`${path}.uid`, "is required (the UID printed on the camera)");
    } else if (bytes > MAX_UID_LENGTH) {
      reader.fail(`${path}.uid`, `must be at most ${MAX_UID_LENGTH} bytes (got ${bytes})`);
    } else if (!/^[A-Za-z0-9_-]+$/.test(uid)) {
      reader.fail(
        `${path}.uid`,
        `must be letters and digits, like 95270000ABCDEFGH (got ${show(uid)})`,
      );
    } else if (uids.has(uid.toUpperCase())) {
      reader.fail(
        `${path}.uid`,
        `must be unique; cameras[${uids.get(uid.toUpperCase())}] has it too`,
      );
    } else uids.set(uid.toUpperCase(), index);
    // Upper case, as cameras report their UIDs: a UID copied in lower case still matches.
    if (name !== undefined && uid !== undefined) cameras.push({ name, uid: uid.toUpperCase() });
  });
  return cameras;
}
