/**
 * The wakeup command: a message on `{prefix}/{camera}/control/wakeup` (any payload) wakes
 * the camera. A retained one is refused, or it would wake the camera on every reconnect.
 */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["bairelay", "mqtt"]);

/** Wakes a camera by UID or configured name (the wake server's wake(target, "mqtt")). */
export type Wake = (target: string) => { result: string };

/** One wakeup message. */
export interface WakeupCommand {
  topic: string;
  /** The camera level of the topic (named in the logs). */
  camera: string;
  /** What to wake: the known camera's name or UID, else the topic's camera level. */
  target: string;
  retained: boolean;
}

/** Runs one wakeup message: wakes the camera and logs the outcome; never throws. */
export function runWakeup({ topic, camera, target, retained }: WakeupCommand, wake: Wake): void {
  if (retained) {
    log.warn("Ignoring a retained MQTT wakeup on {topic}; publish wakeups without retain", {
      topic,
    });
    return;
  }
  try {
    const outcome = wake(target);
    if (outcome.result === "started" || outcome.result === "in_flight") {
      log.info("MQTT wakeup for {camera}: {result}", { camera, result: outcome.result });
    } else {
      log.warn("MQTT wakeup for {camera} not sent: {result}", { camera, result: outcome.result });
    }
  } catch (error) {
    log.error("MQTT wakeup for {camera} failed: {error}", { camera, error });
  }
}
