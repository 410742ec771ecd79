/**
 * The MQTT topic layout of the bridge, in one place: `{prefix}/status`,
 * `{prefix}/cameras_registered`, `{prefix}/{camera}/status/{what}` (see CAMERA_STATE_TOPICS)
 * and `{prefix}/{camera}/control/wakeup`, where `{camera}` is the configured name or the UID.
 * Camera topics always have two levels below `{camera}`, so no camera name collides with the
 * bridge's own one-level topics.
 */

/** Payloads of `{prefix}/status` (the last will publishes the second). */
export const AVAILABILITY = { online: "online", offline: "offline" } as const;
/** Payloads of the on/off state topics. */
export const ON = "on";
export const OFF = "off";

/**
 * The state topics published for every camera (retained, QoS 1): motion and registered are
 * on/off; `wakes`, `wakes_today` and `motion_today` counts; `last_woken_by` the requester's
 * label as plain text and `last_woken_by_attributes` its kind and time as JSON; the others
 * ISO 8601 times.
 */
export const CAMERA_STATE_TOPICS = [
  "motion",
  "registered",
  "last_heartbeat",
  "last_motion",
  "wakes",
  "last_wake",
  "wakes_today",
  "motion_today",
  "last_woken_by",
  "last_woken_by_attributes",
] as const;
export type CameraStateTopic = typeof CAMERA_STATE_TOPICS[number];

/**
 * Makes a UID or name safe as one topic level: MQTT wildcards, level separators and anything
 * outside `[A-Za-z0-9_.-]` become `_` (configured names already obey that rule; UIDs reported
 * by a hostile peer might not).
 */
export function topicSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** Topics of one bridge, derived from its prefix. */
export class Topics {
  constructor(readonly prefix: string) {}

  /** `{prefix}/status`: online / offline (the last will). */
  get availability(): string {
    return `${this.prefix}/status`;
  }

  /** `{prefix}/cameras_registered`: how many cameras are registered (fresh) right now. */
  get camerasRegistered(): string {
    return `${this.prefix}/cameras_registered`;
  }

  /** `{prefix}/{camera}/status/{what}`. */
  state(camera: string, what: CameraStateTopic): string {
    return `${this.prefix}/${camera}/status/${what}`;
  }

  /** `{prefix}/{camera}/control/wakeup`. */
  wakeup(camera: string): string {
    return `${this.prefix}/${camera}/control/wakeup`;
  }

  /** The subscription matching every camera's wakeup topic. */
  get wakeupFilter(): string {
    return `${this.prefix}/+/control/wakeup`;
  }

  /** The camera level of a wakeup topic, or undefined when `topic` is not one. */
  wakeupTarget(topic: string): string | undefined {
    const head = `${this.prefix}/`;
    const tail = "/control/wakeup";
    if (!topic.startsWith(head) || !topic.endsWith(tail)) return undefined;
    const camera = topic.slice(head.length, topic.length - tail.length);
    return camera.length > 0 && !camera.includes("/") ? camera : undefined;
  }
}
