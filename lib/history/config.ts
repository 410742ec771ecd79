/**
 * The history's part of the config file: `[history]` (how long and how much is kept, when a
 * silence is a gap, when a requester drains a battery) and `[[clients]]` (names for the
 * addresses that wake cameras).
 */

import { type ConfigReader, isTable, show } from "../config/reader.ts";
import { MS_MAX, type SectionSpec, type SectionValues } from "../config/spec.ts";
import { ipVersion, plainIp } from "../net/ip.ts";
import { HOUR_MS } from "./hours.ts";
import type { NamedClient } from "./requesters.ts";
import type { HistoryOptions } from "./store.ts";

/** `[history]`. */
export const HISTORY_SPEC = {
  retention_days: {
    type: "integer",
    default: 7,
    min: 1,
    max: 90,
    help: "days of history kept per camera (events and hourly counts)",
  },
  max_events_per_camera: {
    type: "integer",
    default: 100,
    min: 10,
    max: 10_000,
    help: "most events kept per camera, wakes and the rest each (older ones leave first)",
  },
  max_requesters_per_hour: {
    type: "integer",
    default: 8,
    min: 1,
    max: 256,
    help: 'requesters counted by name per camera and hour; the rest are counted as "(others)"',
  },
  gap_factor: {
    type: "integer",
    default: 3,
    min: 2,
    max: 100,
    help: "a silence longer than this many of the camera's heartbeat intervals is an offline span",
  },
  min_gap_ms: {
    type: "integer",
    default: 60_000,
    min: 1000,
    max: MS_MAX,
    help: "the shortest silence counted as an offline span, whatever the cadence (ms)",
  },
  drain_wakes_per_day: {
    type: "integer",
    default: 24,
    min: 1,
    max: 100_000,
    help: "wakes of one camera by one requester in 24 h above which serve warns of battery drain",
  },
} as const satisfies SectionSpec;

/** `[[clients]]`: one named requester. */
export const CLIENTS_SPEC = {
  name: { type: "string", help: "the name shown instead of the address" },
  address: { type: "string", help: "the client's IP address" },
} as const satisfies SectionSpec;

/** `[history]` as read. */
export type HistoryConfig = SectionValues<typeof HISTORY_SPEC>;

/** The most `[[clients]]` entries (their names may become metric labels). */
export const MAX_CLIENTS = 64;

/** The store's options for `config`, with room for `maxCameras` cameras. */
export function historyOptions(config: HistoryConfig, maxCameras: number): HistoryOptions {
  return {
    retentionMs: config.retentionDays * 24 * HOUR_MS,
    maxEvents: config.maxEventsPerCamera,
    maxRequestersPerHour: config.maxRequestersPerHour,
    gapFactor: config.gapFactor,
    minGapMs: config.minGapMs,
    maxCameras,
    drainWakesPerDay: config.drainWakesPerDay,
  };
}

/** The `[[clients]]` entries: each needs a unique name and a unique IP address. */
export function readClients(reader: ConfigReader, raw: unknown): NamedClient[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    reader.fail("clients", "must be an array of tables ([[clients]] entries)");
    return [];
  }
  if (raw.length > MAX_CLIENTS) {
    reader.fail("clients", `must hold at most ${MAX_CLIENTS} entries (got ${raw.length})`);
    return [];
  }
  const clients: NamedClient[] = [];
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  raw.forEach((entry, index) => {
    const path = `clients[${index}]`;
    reader.table(entry, "clients[]", path);
    if (!isTable(entry)) return;
    const { name, address } = reader.values(entry, CLIENTS_SPEC, path);
    let ok = true;
    if (name === undefined) {
      reader.fail(`${path}.name`, "is required (the name shown for this client)");
      ok = false;
    } else if (!/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/.test(name)) {
      reader.fail(
        `${path}.name`,
        "must be 1-64 letters, digits, spaces, '_', '.' or '-', starting with a letter or " +
          `digit (got ${show(name)})`,
      );
      ok = false;
    } else if (names.has(name)) {
      reader.fail(`${path}.name`, `must be unique; clients[${names.get(name)}] is also "${name}"`);
      ok = false;
    } else names.set(name, index);
    if (address === undefined) {
      reader.fail(`${path}.address`, "is required (the client's IP address, e.g. 192.168.1.5)");
      ok = false;
    } else if (ipVersion(address) === 0) {
      reader.fail(
        `${path}.address`,
        `must be an IP address such as 192.168.1.5 (got ${show(address)})`,
      );
      ok = false;
    } else if (addresses.has(plainIp(address))) {
      reader.fail(
        `${path}.address`,
        `must be unique; clients[${addresses.get(plainIp(address))}] has it too`,
      );
      ok = false;
    } else addresses.set(plainIp(address), index);
    if (ok) clients.push({ name: name!, address: plainIp(address!) });
  });
  return clients;
}
