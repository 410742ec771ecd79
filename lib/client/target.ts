/** Turns what the user typed (`wake <uid-or-name>`) into the short UID the protocol sends. */

/** Length of the UID printed on the camera's sticker, which clients send. */
export const SHORT_UID_LENGTH = 16;

/** A camera name from `[[cameras]]`. */
export interface NamedCamera {
  name: string;
  uid: string;
}

/** The UID to send, and how it was found. */
export interface CameraTarget {
  /** The 16-character UID sent in `C2M_Q` / `C2R_C`. */
  uid: string;
  /** The configured name, when the argument was one. */
  name?: string;
  /** The long UID it was shortened from, when it was longer than 16 characters. */
  shortenedFrom?: string;
}

/** The argument is neither a configured name nor a UID. */
export class CameraTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CameraTargetError";
  }
}

const UID_PATTERN = /^[A-Za-z0-9]{16,64}$/;

function shorten(uid: string): Pick<CameraTarget, "uid" | "shortenedFrom"> {
  return uid.length > SHORT_UID_LENGTH
    ? { uid: uid.slice(0, SHORT_UID_LENGTH), shortenedFrom: uid }
    : { uid };
}

/**
 * Resolves `argument` to a short UID: a configured camera name first (its UID), else the
 * argument itself when it looks like a UID (16 to 64 letters and digits). Long UIDs (the
 * 20-character form cameras report) are cut to their 16-character prefix.
 * `configSource` names the config file in errors (undefined: no config was given).
 */
export function resolveCameraTarget(
  argument: string,
  cameras: NamedCamera[],
  configSource?: string,
): CameraTarget {
  const named = cameras.find((camera) => camera.name === argument);
  if (named) return { name: named.name, ...shorten(named.uid) };
  if (UID_PATTERN.test(argument)) return shorten(argument);
  if (configSource === undefined) {
    throw new CameraTargetError(
      `"${argument}" is not a UID (16 letters and digits, as on the camera's sticker); ` +
        "to wake a camera by name, pass --config FILE with a [[cameras]] entry for it",
    );
  }
  const names = cameras.map((camera) => camera.name);
  const known = names.length === 0
    ? "it has no [[cameras]] entries"
    : `its cameras are: ${names.join(", ")}`;
  throw new CameraTargetError(
    `"${argument}" is neither a UID nor a camera named in ${configSource} (${known})`,
  );
}
