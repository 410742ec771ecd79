/**
 * The history file (`<state_dir>/wake-history.json`): every camera's kept events, hourly
 * counts and cadence, written durably at the state file's pace and read back at start. A
 * torn, empty or otherwise unusable file is kept aside and the history starts empty.
 */

import { keepAside, removeLeftoverTemps, writeDurably } from "../storage/durable_file.ts";
import type { CameraHistory, HistoryEvent, WakeEvent } from "./camera_history.ts";
import type { HourCounts } from "./hours.ts";
import { REQUESTER_KINDS } from "./requesters.ts";
import type { HistoryStore } from "./store.ts";

/** The history file's name inside the state directory. */
export const HISTORY_FILE_NAME = "wake-history.json";
/** Format version written into the file. */
export const HISTORY_VERSION = 1;

/** What reading the file found. */
export interface HistoryLoad {
  /** Cameras restored. */
  cameras: number;
  /** Set when the file was unusable: what was wrong and where it was kept. */
  problem?: { message: string; movedTo?: string };
  /** Temporary files of a killed run that were removed. */
  removed: string[];
}

class HistoryFormatError extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** One event as read back; throws naming what is wrong. */
function readEvent(value: unknown, where: string): HistoryEvent {
  if (!isRecord(value)) throw new HistoryFormatError(`${where} is not an object`);
  switch (value.type) {
    case "registered":
      if (isTime(value.at) && typeof value.address === "string") {
        return { type: "registered", at: value.at, address: value.address };
      }
      break;
    case "offline":
      if (isTime(value.from) && isTime(value.to)) {
        return { type: "offline", from: value.from, to: value.to };
      }
      break;
    case "motion":
      if (isTime(value.at)) return { type: "motion", at: value.at };
      break;
    case "wake":
      if (
        isTime(value.at) && typeof value.requester === "string" &&
        REQUESTER_KINDS.includes(value.kind as WakeEvent["kind"]) &&
        (value.result === "started" || value.result === "refused") &&
        typeof value.acknowledged === "boolean" && isCount(value.sid) && isCount(value.count)
      ) {
        return value as unknown as WakeEvent;
      }
      break;
  }
  throw new HistoryFormatError(`${where} is not a history event`);
}

/** One hour's counts as read back. */
function readHour(value: unknown, where: string): HourCounts {
  if (
    !isRecord(value) || !isTime(value.hour) || !isCount(value.wakes) ||
    !isCount(value.refused) || !isCount(value.motion) || !isCount(value.heartbeats) ||
    !isRecord(value.byRequester) || !Object.values(value.byRequester).every(isCount)
  ) {
    throw new HistoryFormatError(`${where} is not an hour's counts`);
  }
  return value as unknown as HourCounts;
}

/**
 * The cameras' histories in the file's text, made with `store`'s bounds (the store is not
 * changed); throws naming what is wrong.
 */
export function parseHistory(text: string, store: HistoryStore): [string, CameraHistory][] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new HistoryFormatError(`not JSON (${(error as Error).message})`);
  }
  if (!isRecord(data) || data.version !== HISTORY_VERSION || !isRecord(data.cameras)) {
    throw new HistoryFormatError(`not a version ${HISTORY_VERSION} history file`);
  }
  const cameras: [string, CameraHistory][] = [];
  for (const [uid, value] of Object.entries(data.cameras)) {
    const where = `cameras.${uid}`;
    if (
      !isRecord(value) || !Array.isArray(value.events) || !Array.isArray(value.wakes) ||
      !Array.isArray(value.hours)
    ) {
      throw new HistoryFormatError(`${where} is not a camera's history`);
    }
    const history: CameraHistory = store.newCameraHistory();
    history.events = value.events.map((e, i) => readEvent(e, `${where}.events[${i}]`));
    history.wakes = value.wakes.map((e, i) => readEvent(e, `${where}.wakes[${i}]`))
      .filter((event): event is WakeEvent => event.type === "wake");
    history.hours = value.hours.map((h, i) => readHour(h, `${where}.hours[${i}]`));
    history.lastSeen = isTime(value.lastSeen) ? value.lastSeen : null;
    history.cadenceMs = isTime(value.cadenceMs) ? value.cadenceMs : null;
    cameras.push([uid, history]);
  }
  return cameras;
}

/** The file's text, in pieces of one camera each (a week of 1,024 cameras is no one string). */
export function* historyText(store: HistoryStore, savedAt: number): Generator<string> {
  yield `{"version":${HISTORY_VERSION},"saved_at":${savedAt},"cameras":{`;
  let first = true;
  for (const uid of store.uids()) {
    const history = store.get(uid)!;
    const { events, wakes, hours, lastSeen, cadenceMs } = history;
    yield `${first ? "" : ","}\n${JSON.stringify(uid)}:` +
      JSON.stringify({ lastSeen, cadenceMs, events, wakes, hours });
    first = false;
  }
  yield "\n}}\n";
}

/** Reads and writes the history file in one directory. */
export class HistoryFile {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = `${dir.replace(/\/+$/, "")}/${HISTORY_FILE_NAME}`;
  }

  /** Fills `store` from the file. A missing file is an empty start. Never throws. */
  async load(store: HistoryStore, at = Date.now()): Promise<HistoryLoad> {
    const removed = await removeLeftoverTemps(this.path);
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { cameras: 0, removed };
      return { cameras: 0, removed, problem: await keepAside(this.path, error as Error, at) };
    }
    let cameras: [string, CameraHistory][];
    try {
      cameras = parseHistory(text, store);
    } catch (error) {
      return { cameras: 0, removed, problem: await keepAside(this.path, error as Error, at) };
    }
    for (const [uid, history] of cameras) store.restore(uid, history);
    store.prune(at);
    return { cameras: cameras.length, removed };
  }

  /** Writes the store durably. */
  async save(store: HistoryStore, at = Date.now()): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    await writeDurably(this.path, historyText(store, at));
  }
}
