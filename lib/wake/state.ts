/**
 * The wake server's state file (`<state_dir>/wake-state.json`): the camera registry, so a
 * restarted server can wake a camera before its next heartbeat. Written durably (see
 * lib/storage/durable_file.ts) and at most about once a second; a corrupt, torn or unreadable
 * file is renamed aside and the server starts empty.
 */

import { getLogger } from "@logtape/logtape";
import {
  keepAside,
  type KeptAside,
  removeLeftoverTemps,
  writeDurably,
} from "../storage/durable_file.ts";
import type { CameraEntry } from "./registry.ts";

const logger = getLogger(["bairelay", "wake"]);

/** The state file's name inside the state directory. */
export const STATE_FILE_NAME = "wake-state.json";
/** Format version written into the file. */
export const STATE_VERSION = 1;
/** Minimum spacing of state writes, in ms. */
export const STATE_WRITE_INTERVAL_MS = 1000;
/**
 * Spacing of writes caused only by heartbeat refreshes, in ms: short enough that a restart
 * finds cameras fresh (stale_after_ms defaults to 80 s), long enough to spare flash.
 */
export const STATE_RELAXED_WRITE_INTERVAL_MS = 15_000;

/** What loading found. */
export interface LoadedState {
  cameras: CameraEntry[];
  /** Set when the file was unusable: what was wrong and where it was moved. */
  problem?: KeptAside;
}

interface StoredCamera {
  uid: string;
  address: { ip: string; port: number };
  token?: string;
  first_seen: number;
  last_heartbeat: number;
  wakes: number;
  last_wake?: number;
  last_motion?: number;
}

function toStored(entry: CameraEntry): StoredCamera {
  const stored: StoredCamera = {
    uid: entry.uid,
    address: { ip: entry.address.ip, port: entry.address.port },
    first_seen: entry.firstSeen,
    last_heartbeat: entry.lastHeartbeat,
    wakes: entry.wakes,
  };
  if (entry.token !== undefined) stored.token = entry.token.toString();
  if (entry.lastWake !== undefined) stored.last_wake = entry.lastWake;
  if (entry.lastMotion !== undefined) stored.last_motion = entry.lastMotion;
  return stored;
}

class StateFormatError extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(record: Record<string, unknown>, key: string, where: string): number {
  const value = record[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new StateFormatError(`${where}.${key} is not a number`);
  }
  return value;
}

function optionalNum(record: Record<string, unknown>, key: string, where: string) {
  return record[key] === undefined ? undefined : num(record, key, where);
}

function fromStored(value: unknown, index: number): CameraEntry {
  const where = `cameras[${index}]`;
  if (!isRecord(value)) throw new StateFormatError(`${where} is not an object`);
  const { uid, address, token } = value;
  if (typeof uid !== "string" || uid === "" || uid.length > 64) {
    throw new StateFormatError(`${where}.uid is not a UID`);
  }
  if (!isRecord(address) || typeof address.ip !== "string") {
    throw new StateFormatError(`${where}.address is not {ip, port}`);
  }
  const port = num(address, "port", `${where}.address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StateFormatError(`${where}.address.port is not a port`);
  }
  if (token !== undefined && (typeof token !== "string" || !/^[0-9]{1,20}$/.test(token))) {
    throw new StateFormatError(`${where}.token is not a string of digits`);
  }
  const entry: CameraEntry = {
    uid,
    address: { ip: address.ip, port },
    firstSeen: num(value, "first_seen", where),
    lastHeartbeat: num(value, "last_heartbeat", where),
    wakes: num(value, "wakes", where),
  };
  if (token !== undefined) entry.token = BigInt(token);
  const lastWake = optionalNum(value, "last_wake", where);
  if (lastWake !== undefined) entry.lastWake = lastWake;
  const lastMotion = optionalNum(value, "last_motion", where);
  if (lastMotion !== undefined) entry.lastMotion = lastMotion;
  return entry;
}

/** Parses the state file's text; throws a message naming what is wrong. */
export function parseState(text: string): CameraEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new StateFormatError(`not JSON (${(error as Error).message})`);
  }
  if (!isRecord(data)) throw new StateFormatError("not a JSON object");
  if (data.version !== STATE_VERSION) {
    throw new StateFormatError(`version is ${JSON.stringify(data.version)}, expected 1`);
  }
  if (!Array.isArray(data.cameras)) throw new StateFormatError("cameras is not a list");
  return data.cameras.map(fromStored);
}

/** Cameras per piece of `stateText`: pieces of about 16 KB. */
const CAMERAS_PER_PIECE = 64;

/**
 * The state file's text for these entries, in pieces that join to
 * `JSON.stringify({version, saved_at, cameras}, null, 1)` and a newline. In pieces because a
 * file of 1,024 cameras is a 256 KB string, and a string that large is allocated straight
 * into V8's old generation, where it stays until the next full collection.
 */
export function* stateText(cameras: readonly CameraEntry[], savedAt: number): Generator<string> {
  const head = JSON.stringify({ version: STATE_VERSION, saved_at: savedAt, cameras: [] }, null, 1);
  if (cameras.length === 0) {
    yield head + "\n";
    return;
  }
  // `head` ends in `"cameras": []\n}`: open the list there and close it after the cameras.
  let piece = head.slice(0, head.lastIndexOf("]")) + "\n";
  for (let i = 0; i < cameras.length; i++) {
    const camera = JSON.stringify(toStored(cameras[i]), null, 1).replaceAll("\n", "\n  ");
    piece += `  ${camera}${i + 1 < cameras.length ? "," : ""}\n`;
    if ((i + 1) % CAMERAS_PER_PIECE === 0) {
      yield piece;
      piece = "";
    }
  }
  yield `${piece} ]\n}\n`;
}

/** The state file's text for these entries (`stateText` joined). */
export function serializeState(cameras: readonly CameraEntry[], savedAt: number): string {
  return [...stateText(cameras, savedAt)].join("");
}

/** Reads and writes the state file in one directory. */
export class StateStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = `${dir.replace(/\/+$/, "")}/${STATE_FILE_NAME}`;
  }

  /**
   * Loads the registry. A missing file is an empty start; an unreadable, corrupt, torn or
   * empty one is renamed to `<file>.corrupt-<time>` and reported in `problem`. Temporary
   * files a killed run left behind are removed first. Never throws.
   */
  async load(at = Date.now()): Promise<LoadedState> {
    for (const leftover of await removeLeftoverTemps(this.path)) {
      logger.info("Removed {leftover}, left by a run that was killed while saving", { leftover });
    }
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { cameras: [] };
      return { cameras: [], problem: await keepAside(this.path, error as Error, at) };
    }
    try {
      return { cameras: parseState(text) };
    } catch (error) {
      return { cameras: [], problem: await keepAside(this.path, error as Error, at) };
    }
  }

  /**
   * Writes the entries durably (temp file, sync, rename, directory sync). The text goes out
   * piece by piece (see `stateText`); an entry that changes while the file is written is
   * written as it is when its piece is made.
   */
  async save(cameras: readonly CameraEntry[], at = Date.now()): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    await writeDurably(this.path, stateText(cameras, at));
  }
}

/**
 * Coalesces changes into few writes: an important change (a camera registered, moved,
 * woken or evicted) is written within `intervalMs` (about a second); a routine one (a
 * heartbeat that only refreshes the time) within `relaxedIntervalMs`, sparing SD cards a
 * write every second. `close()` writes what is pending and schedules nothing afterwards.
 */
export class ThrottledWriter {
  private dirty = false;
  private urgent = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private due = Infinity;
  private writing: Promise<void> | undefined;
  private lastWrite = -Infinity;
  private closed = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = STATE_WRITE_INTERVAL_MS,
    private readonly relaxedIntervalMs = STATE_RELAXED_WRITE_INTERVAL_MS,
  ) {}

  /** Notes a change; `urgent` ones are written within `intervalMs`, others later. */
  markDirty(urgent = true): void {
    // Every heartbeat lands here: when a routine change is already pending with its timer
    // set, there is nothing to do (and nothing to allocate).
    if (!urgent && this.dirty && this.timer !== undefined) return;
    this.dirty = true;
    this.urgent ||= urgent;
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || !this.dirty || this.writing !== undefined) return;
    const interval = this.urgent ? this.intervalMs : this.relaxedIntervalMs;
    // One reading of the clock: two could make the delay a tiny negative number, which Deno
    // reports as a TimeoutNegativeWarning on stderr (breaking --log-format json).
    const now = performance.now();
    const due = Math.max(now, this.lastWrite + interval);
    if (this.timer !== undefined) {
      if (this.due <= due) return;
      clearTimeout(this.timer);
    }
    this.due = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, due - now);
  }

  private async run(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.urgent = false;
    this.lastWrite = performance.now();
    this.writing = this.write().catch(this.onError);
    await this.writing;
    this.writing = undefined;
    this.schedule();
  }

  /** Cancels the timer, waits for a write in progress and writes what is pending. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing !== undefined) await this.writing;
    await this.run();
  }
}
