/**
 * Reads a version 1 history file (one object per event and per hour, as bairelay wrote it
 * before the compact format) into the compact store, so an upgrade keeps the week of history.
 */

import type { CameraHistory } from "./camera_history.ts";
import type { HistoryEvent, WakeRow } from "./event_log.ts";
import { HistoryFormatError, isCount, isRecord, isTime } from "./file_format.ts";
import { HOUR_MS, type HourRow } from "./hours.ts";
import { REQUESTER_KINDS, type RequesterKind } from "./requesters.ts";

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
        REQUESTER_KINDS.includes(value.kind as RequesterKind) &&
        (value.result === "started" || value.result === "refused") &&
        typeof value.acknowledged === "boolean" && isCount(value.sid) && isCount(value.count)
      ) {
        return {
          type: "wake",
          at: value.at,
          requester: value.requester,
          kind: value.kind as RequesterKind,
          result: value.result,
          acknowledged: value.acknowledged,
          sid: value.sid,
          count: value.count,
        };
      }
      break;
  }
  throw new HistoryFormatError(`${where} is not a history event`);
}

/** One hour's counts as a compact row; throws naming what is wrong. */
function readHour(value: unknown, where: string, history: CameraHistory): HourRow {
  if (
    !isRecord(value) || !isTime(value.hour) || !isCount(value.wakes) ||
    !isCount(value.refused) || !isCount(value.motion) || !isCount(value.heartbeats) ||
    !isRecord(value.byRequester) || !Object.values(value.byRequester).every(isCount)
  ) {
    throw new HistoryFormatError(`${where} is not an hour's counts`);
  }
  const row = [
    Math.floor(value.hour / HOUR_MS),
    value.wakes,
    value.refused,
    value.motion,
    value.heartbeats,
  ];
  for (const [label, count] of Object.entries(value.byRequester)) {
    row.push(history.labels.index(label), count as number);
  }
  return row;
}

/** Fills `history` from one camera of a version 1 file; throws naming what is wrong. */
export function restoreVersion1(value: unknown, where: string, history: CameraHistory): void {
  if (
    !isRecord(value) || !Array.isArray(value.events) || !Array.isArray(value.wakes) ||
    !Array.isArray(value.hours)
  ) {
    throw new HistoryFormatError(`${where} is not a camera's history`);
  }
  value.events.forEach((item, i) => {
    const event = readEvent(item, `${where}.events[${i}]`);
    if (event.type !== "wake") history.others.add(event);
  });
  value.wakes.forEach((item, i) => {
    const wake = readEvent(item, `${where}.wakes[${i}]`);
    if (wake.type !== "wake") return;
    const row: WakeRow = [
      wake.at,
      history.labels.index(wake.requester),
      REQUESTER_KINDS.indexOf(wake.kind),
      wake.result === "refused" ? 1 : 0,
      wake.acknowledged ? 1 : 0,
      wake.sid,
      wake.count,
    ];
    history.wakeLog.restore(row);
  });
  value.hours.forEach((item, i) => {
    history.hourRing.restore(readHour(item, `${where}.hours[${i}]`, history));
  });
}
