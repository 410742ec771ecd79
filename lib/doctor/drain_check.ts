/**
 * The drain warning: every wake costs a battery camera battery, and a client that polls (a
 * dashboard card that reopens a stream, an integration that reconnects) can empty it in days.
 * serve names each requester that woke a camera more than `[history] drain_wakes_per_day`
 * times in 24 hours (`drain` of each camera in `/api/cameras`); this check turns each into a
 * warning with the remedy. A serve older than the history sends no `drain`: then the check
 * says nothing.
 */

import type { CameraDocument } from "../api/routes.ts";
import type { DoctorFacts } from "./facts.ts";
import { type CheckResult, result } from "./result.ts";

/** One requester over the threshold, as an entry of a camera's `drain`. */
export interface DrainDocument {
  /** Its label: a `[[clients]]` name, an address, or the kind ("mqtt", "motion", "cli"). */
  requester: string;
  /** Wakes it started in the last 24 hours. */
  wakes: number;
  /** `[history] drain_wakes_per_day`. */
  threshold: number;
}

/** The parts of a camera document this check reads; `drain` is absent from an older serve. */
export type DrainCamera = Pick<CameraDocument, "uid" | "name"> & { drain?: unknown };

/** Where the ceiling on every requester's wakes is set. */
const BUDGET = "or set [wake_server] max_wakes_per_hour";

/**
 * The remedy by requester label: the labels of requesters without an address are their kind;
 * anything else is a client or an API caller, by name or address.
 */
const REMEDIES: Readonly<Record<string, string>> = {
  mqtt: "Each wake costs battery: wake it less often over MQTT (an automation that publishes " +
    `control/wakeup on a timer or on every state change), ${BUDGET}.`,
  motion: "Each motion event wakes the camera ([push_listener] wake_on_motion): lower the " +
    `camera's motion sensitivity or turn wake_on_motion off, ${BUDGET}.`,
  cli:
    `Each wake costs battery: run \`bairelay wake\` (a script, a cron job) less often, ${BUDGET}.`,
};
const CLIENT_REMEDY = "Each wake costs battery: lower that client's polling (a dashboard card " +
  `that reopens a stream, an integration that polls), ${BUDGET}.`;

/**
 * Text from serve shown in a terminal: control characters (which could move the cursor or
 * recolour the screen) become "?".
 */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}

/** A camera's `drain` entries, or null when the document has none (an older serve). */
export function drainsOf(camera: DrainCamera): DrainDocument[] | null {
  if (!Array.isArray(camera.drain)) return null;
  // An API is outside input: entries that are not what serve sends are skipped.
  return camera.drain.filter((entry): entry is DrainDocument =>
    typeof entry === "object" && entry !== null && typeof entry.requester === "string" &&
    Number.isFinite(entry.wakes) && Number.isFinite(entry.threshold)
  );
}

/**
 * A warning per camera and requester in `drain`; one ok line when serve reports `drain` and
 * it names nobody; nothing from a serve without it.
 */
export function drainChecks(facts: DoctorFacts): CheckResult[] {
  const cameras: readonly DrainCamera[] = facts.serve.cameras ?? [];
  const reported = cameras.map((camera) => ({ camera, drains: drainsOf(camera) }))
    .filter((entry) => entry.drains !== null);
  if (reported.length === 0) return [];
  const results = reported.flatMap(({ camera, drains }) =>
    drains!.map((drain) => {
      const name = camera.name ?? camera.uid;
      return result(
        "cameras",
        `camera.${name}.drain.${drain.requester}`,
        "warning",
        `${printable(drain.requester)} woke ${printable(name)} ${drain.wakes} times in 24 h ` +
          `(more than ${drain.threshold})`,
        { remedy: REMEDIES[drain.requester] ?? CLIENT_REMEDY },
      );
    })
  );
  if (results.length > 0) return results;
  return [result(
    "cameras",
    "cameras.drain",
    "ok",
    "no requester woke a camera more than [history] drain_wakes_per_day times in 24 h",
  )];
}
