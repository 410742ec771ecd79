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

/**
 * The UID to send: upper case (as on the sticker and as cameras report it; servers may
 * compare UIDs exactly), cut to its short form when long.
 */
function shorten(typed: string): Pick<CameraTarget, "uid" | "shortenedFrom"> {
  const uid = typed.toUpperCase();
  return uid.length > SHORT_UID_LENGTH
    ? { uid: uid.slice(0, SHORT_UID_LENGTH), shortenedFrom: typed }
    : { uid };
}

/** True when `argument` has the shape of a UID (16 to 64 letters and digits). */
export function looksLikeUid(argument: string): boolean {
  return UID_PATTERN.test(argument);
}

/**
 * Resolves `argument` to a short UID: a camera name first (its UID), else the argument itself
 * when it looks like a UID (16 to 64 letters and digits, any case). Long UIDs (the
 * 20-character form cameras report) are cut to their 16-character prefix. `source` names
 * where the names came from in errors (a config file, or the running serve).
 */
export function resolveCameraTarget(
  argument: string,
  cameras: NamedCamera[],
  source: string,
): CameraTarget {
  const named = cameras.find((camera) => camera.name === argument);
  if (named) return { name: named.name, ...shorten(named.uid) };
  if (looksLikeUid(argument)) return shorten(argument);
  const names = cameras.map((camera) => camera.name);
  const known = names.length === 0 ? "it names no cameras" : `its cameras are: ${names.join(", ")}`;
  throw new CameraTargetError(
    `"${argument}" is neither a UID nor a camera named in ${source} (${known})`,
  );
}
