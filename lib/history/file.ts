/**
 * The history file (`<state_dir>/wake-history.json`): every camera's kept events, hourly
 * counts and cadence, read back at start. Version 2 is compact: the requester labels once,
 * then per camera arrays of numbers (see `EventRow`, `WakeRow`, `HourRow`) indexing them. A
 * version 1 file (one object per event and hour) is still read. A torn, empty or otherwise
 * unusable file is kept aside and the history starts empty.
 */

import { keepAside, removeLeftoverTemps, writeDurably } from "../storage/durable_file.ts";
import type { CameraHistory } from "./camera_history.ts";
import type { OtherEvent, WakeRow } from "./event_log.ts";
import { HistoryFormatError, isCount, isIndex, isRecord, isTime } from "./file_format.ts";
import { restoreVersion1 } from "./file_v1.ts";
import type { HourRow } from "./hours.ts";
import { REQUESTER_KINDS } from "./requesters.ts";
import type { HistoryStore } from "./store.ts";

/** The history file's name inside the state directory. */
export const HISTORY_FILE_NAME = "wake-history.json";
/** Format version written into the file. */
export const HISTORY_VERSION = 2;

/** What reading the file found. */
export interface HistoryLoad {
  /** Cameras restored. */
  cameras: number;
  /** Set when the file was unusable: what was wrong and where it was kept. */
  problem?: { message: string; movedTo?: string };
  /** Temporary files of a killed run that were removed. */
  removed: string[];
}

/** A registration, offline span or motion in the file: [0, at, address], [1, from, to], [2, at]. */
type EventRow = [0, number, string] | [1, number, number] | [2, number];

function eventRow(event: OtherEvent): EventRow {
  switch (event.type) {
    case "registered":
      return [0, event.at, event.address];
    case "offline":
      return [1, event.from, event.to];
    case "motion":
      return [2, event.at];
  }
}

function readEventRow(row: unknown, where: string): OtherEvent {
  if (Array.isArray(row) && isTime(row[1])) {
    if (row[0] === 0 && row.length === 3 && typeof row[2] === "string") {
      return { type: "registered", at: row[1], address: row[2] };
    }
    if (row[0] === 1 && row.length === 3 && isTime(row[2])) {
      return { type: "offline", from: row[1], to: row[2] };
    }
    if (row[0] === 2 && row.length === 2) return { type: "motion", at: row[1] };
  }
  throw new HistoryFormatError(`${where} is not a history event`);
}

/** A wake row with its label renumbered from the file's table to the store's. */
function readWakeRow(row: unknown, where: string, labels: number[]): WakeRow {
  if (
    Array.isArray(row) && row.length === 7 && isTime(row[0]) && isIndex(row[1], labels.length) &&
    isIndex(row[2], REQUESTER_KINDS.length) && isIndex(row[3], 2) && isIndex(row[4], 2) &&
    isCount(row[5]) && isCount(row[6])
  ) {
    return [row[0], labels[row[1]], row[2], row[3], row[4], row[5], row[6]];
  }
  throw new HistoryFormatError(`${where} is not a wake`);
}

/** An hour row with its labels renumbered from the file's table to the store's. */
function readHourRow(row: unknown, where: string, labels: number[]): HourRow {
  if (
    Array.isArray(row) && row.length >= 5 && row.length % 2 === 1 &&
    Number.isInteger(row[0]) && Math.abs(row[0]) < 2 ** 31 && row.slice(1).every(isCount) &&
    row.slice(5).every((value, i) => i % 2 === 1 || value < labels.length)
  ) {
    return row.map((value, i) => i >= 5 && i % 2 === 1 ? labels[value] : value);
  }
  throw new HistoryFormatError(`${where} is not an hour's counts`);
}

/** Fills `history` from one camera of a version 2 file; throws naming what is wrong. */
function restoreCamera(value: unknown, where: string, history: CameraHistory, labels: number[]) {
  if (
    !isRecord(value) || !Array.isArray(value.events) || !Array.isArray(value.wakes) ||
    !Array.isArray(value.hours)
  ) {
    throw new HistoryFormatError(`${where} is not a camera's history`);
  }
  value.events.forEach((row, i) => history.others.add(readEventRow(row, `${where}.events[${i}]`)));
  value.wakes.forEach((row, i) => {
    history.wakeLog.restore(readWakeRow(row, `${where}.wakes[${i}]`, labels));
  });
  value.hours.forEach((row, i) => {
    history.hourRing.restore(readHourRow(row, `${where}.hours[${i}]`, labels));
  });
}

/** One camera read from the file, made with `store`'s bounds (not added to it). */
function readCamera(
  uid: string,
  value: unknown,
  version: 1 | 2,
  labels: number[],
  store: HistoryStore,
): [string, CameraHistory] {
  const where = `cameras.${uid}`;
  const history = store.newCameraHistory();
  if (version === 1) restoreVersion1(value, where, history);
  else restoreCamera(value, where, history, labels);
  const { lastSeen, cadenceMs } = value as Record<string, unknown>;
  history.lastSeen = isTime(lastSeen) ? lastSeen : null;
  history.cadenceMs = isTime(cadenceMs) ? cadenceMs : null;
  return [uid, history];
}

/** The file's label table renumbered into `store`'s; throws when it is not one. */
function readLabels(value: unknown, store: HistoryStore): number[] {
  if (!Array.isArray(value) || !value.every((label) => typeof label === "string")) {
    throw new HistoryFormatError("labels is not a list of requester labels");
  }
  return value.map((label: string) => store.labels.index(label));
}

/**
 * The cameras' histories in the file's text (version 2, or 1 as older bairelay wrote it), made
 * with `store`'s bounds and label table (the cameras are not added); throws naming what is
 * wrong.
 */
export function parseHistory(text: string, store: HistoryStore): [string, CameraHistory][] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new HistoryFormatError(`not JSON (${(error as Error).message})`);
  }
  const version = isRecord(data) ? data.version : undefined;
  if (
    !isRecord(data) || (version !== 1 && version !== HISTORY_VERSION) || !isRecord(data.cameras)
  ) {
    throw new HistoryFormatError(`not a version ${HISTORY_VERSION} (or 1) history file`);
  }
  const labels = version === HISTORY_VERSION ? readLabels(data.labels, store) : [];
  return Object.entries(data.cameras).map(([uid, value]) =>
    readCamera(uid, value, version, labels, store)
  );
}

/** The lines of the file at `path`, read a piece at a time (without their "\n"). */
async function* fileLines(path: string): AsyncGenerator<string> {
  using file = await Deno.open(path);
  let rest = "";
  for await (const text of file.readable.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest !== "") yield rest;
}

/** The last line of a file `historyText` wrote. */
const CLOSING_LINE = "}}";

/**
 * The cameras' histories of the file at `path`, one line at a time when it is laid out as
 * `historyText` writes it (a header line, one line per camera, a closing line), so that a week
 * of 1,024 cameras is never one string or one parsed object; any other file (version 1, one
 * edited by hand) is parsed whole. Every camera is read before any is returned: a torn file
 * throws, naming the line, and nothing of it is used.
 */
export async function readHistoryFile(
  path: string,
  store: HistoryStore,
): Promise<[string, CameraHistory][]> {
  const lines = fileLines(path);
  const first = await lines.next();
  let header: unknown;
  try {
    header = first.done ? undefined : JSON.parse(`${first.value}${CLOSING_LINE}`);
  } catch { /* not a header line: read as a whole below */ }
  if (!isRecord(header) || header.version !== HISTORY_VERSION) {
    await lines.return(undefined);
    return parseHistory(await Deno.readTextFile(path), store);
  }
  const labels = readLabels(header.labels, store);
  const cameras: [string, CameraHistory][] = [];
  let number = 1;
  let closed = false;
  for await (const line of lines) {
    number++;
    if (closed && line !== "") {
      throw new HistoryFormatError(`line ${number} follows the closing line`);
    }
    if (closed || line === CLOSING_LINE) {
      closed = true;
      continue;
    }
    let camera: unknown;
    try {
      camera = JSON.parse(`{${line.endsWith(",") ? line.slice(0, -1) : line}}`);
    } catch (error) {
      throw new HistoryFormatError(`line ${number} is not JSON (${(error as Error).message})`);
    }
    const entries = isRecord(camera) ? Object.entries(camera) : [];
    if (entries.length !== 1) {
      throw new HistoryFormatError(`line ${number} is not one camera's history`);
    }
    cameras.push(readCamera(entries[0][0], entries[0][1], HISTORY_VERSION, labels, store));
  }
  if (!closed) {
    throw new HistoryFormatError(`the file ends at line ${number}, before its closing line`);
  }
  return cameras;
}

/** The file's text, in pieces of one camera each (a week of 1,024 cameras is no one string). */
export function* historyText(store: HistoryStore, savedAt: number): Generator<string> {
  yield `{"version":${HISTORY_VERSION},"saved_at":${savedAt},` +
    `"labels":${JSON.stringify(store.labels.all())},"cameras":{`;
  let first = true;
  for (const uid of store.uids()) {
    const history = store.get(uid)!;
    const { lastSeen, cadenceMs } = history;
    const events = history.others.list().map(eventRow);
    const wakes = history.wakeLog.rows();
    const hours = history.hourRing.rows();
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
    let cameras: [string, CameraHistory][];
    try {
      cameras = await readHistoryFile(this.path, store);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { cameras: 0, removed };
      return { cameras: 0, removed, problem: await keepAside(this.path, error as Error, at) };
    }
    for (const [uid, history] of cameras) store.restore(uid, history);
    // Also drops the labels only the cameras not restored (over the bound) referred to.
    store.prune(at);
    return { cameras: cameras.length, removed };
  }

  /** Writes the store durably. */
  async save(store: HistoryStore, at = Date.now()): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    await writeDurably(this.path, historyText(store, at));
  }
}
