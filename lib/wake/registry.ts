/**
 * Who is registered with the wake server: cameras keyed by their long UID (from `D2R_HB`),
 * with the UDP source address they heartbeat from, and the session anchors (`token`, `ac`)
 * the middleman issues on `D2M_Q` for the register to check on `D2R_R`.
 */

/** A UDP address as seen on the wire. */
export interface Address {
  ip: string;
  port: number;
}

/**
 * One registered camera. `list()`, `lookupFresh()`, `lookupByIp()` and `departedEntry()` return
 * copies; `forEachEntry()` and `upsertHeartbeat()` hand out the stored entries themselves.
 */
export interface CameraEntry {
  /** The long UID the camera reports (sticker UID + firmware suffix). */
  uid: string;
  /** The configured name whose UID is a prefix of `uid`, if any. */
  name?: string;
  /** The UDP source address of the last heartbeat (never the camera's own `<dev>`). */
  address: Address;
  /** The token of the last heartbeat. */
  token?: bigint;
  firstSeen: number;
  lastHeartbeat: number;
  /** Wake bursts started for this camera. */
  wakes: number;
  lastWake?: number;
  lastMotion?: number;
}

/** What a heartbeat did to the registry. */
export type UpsertResult =
  | {
    result: "registered";
    entry: CameraEntry;
    /** Stale entries swept to make room for it (the caller reports them as deregistered). */
    evicted: CameraEntry[];
  }
  | { result: "refreshed"; entry: CameraEntry; moved: boolean }
  | { result: "full" };

/** Bounds and names for a registry. */
export interface RegistryOptions {
  /** Entries whose last heartbeat is older than this read as absent and are evicted. */
  staleAfterMs: number;
  /** New UIDs are refused once this many cameras are held; known ones still refresh. */
  maxCameras: number;
  /** Configured cameras: `uid` (short or long) names every long UID it prefixes. */
  cameras?: readonly { name: string; uid: string }[];
  /** Clock in ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * Length of a camera's short (sticker) UID, the form `C2R_C` carries: registered UIDs are
 * indexed by their first this-many characters so a wake needs no scan of every camera.
 */
export const SHORT_UID_LENGTH = 16;

function copyEntry(entry: CameraEntry): CameraEntry {
  return { ...entry, address: { ...entry.address } };
}

/**
 * The registry as the rooms around the wake server see it: lookups and listings, no mutation
 * (heartbeats, wakes and motion change it only through the wake server, which persists them).
 */
export type RegistryView = Pick<
  CameraRegistry,
  | "size"
  | "staleAfterMs"
  | "maxCameras"
  | "configured"
  | "isFresh"
  | "list"
  | "forEachEntry"
  | "departedEntry"
  | "nameFor"
  | "lookupFresh"
  | "lookupByIp"
  | "resolveTarget"
  | "identify"
>;

/**
 * The camera registry. Lookups only ever return fresh entries; `sweep()` evicts stale
 * ones (the wake server runs it every second and reports each eviction).
 */
export class CameraRegistry {
  private readonly entries = new Map<string, CameraEntry>();
  /**
   * Long UIDs by their first SHORT_UID_LENGTH characters: a list, almost always of one (a
   * Set per camera would cost several times as much).
   */
  private readonly byShortUid = new Map<string, string[]>();
  private readonly cameras: readonly { name: string; uid: string }[];
  /**
   * The last entry of each configured camera swept as stale, by name (at most one per
   * configured camera), so it reads "stale" rather than "never seen" until it returns.
   */
  private readonly departed = new Map<string, CameraEntry>();
  /**
   * No entry goes stale before this time (ms; a lower bound: heartbeats only move it later).
   * A full registry refusing a flood of new UIDs sweeps only once something can be stale,
   * instead of scanning every camera for each refused datagram.
   */
  private staleNoSoonerThan = Infinity;
  private readonly now: () => number;
  readonly staleAfterMs: number;
  readonly maxCameras: number;

  constructor(options: RegistryOptions) {
    this.staleAfterMs = options.staleAfterMs;
    this.maxCameras = options.maxCameras;
    // Upper case, as cameras report their UIDs: a UID configured in lower case still matches.
    this.cameras = (options.cameras ?? []).map((camera) => ({
      name: camera.name,
      uid: camera.uid.toUpperCase(),
    }));
    this.now = options.now ?? Date.now;
  }

  /** How many entries are held (fresh or not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  /** True when the entry's last heartbeat is within `staleAfterMs` of now. */
  isFresh(entry: CameraEntry, at = this.now()): boolean {
    return at - entry.lastHeartbeat <= this.staleAfterMs;
  }

  /**
   * Every entry held, freshest first, as copies. Stale entries stay listed until the next
   * sweep (at most about a second); use `isFresh(entry)` for the flag.
   */
  list(): CameraEntry[] {
    return [...this.entries.values()].map(copyEntry).sort((a, b) =>
      b.lastHeartbeat - a.lastHeartbeat
    );
  }

  /**
   * Calls `visit` with every entry held, as stored (not copies; in no order), for reading
   * them without the copies `list()` makes (the status counts, the state file). `visit` must
   * not change them; an entry it keeps goes on changing with later heartbeats.
   */
  forEachEntry(visit: (entry: Readonly<CameraEntry>) => void): void {
    this.entries.forEach((entry) => visit(entry));
  }

  /** The configured cameras (`[[cameras]]`), as given. */
  get configured(): readonly { name: string; uid: string }[] {
    return this.cameras;
  }

  /** The last entry of configured camera `name` after it went stale and was swept (a copy). */
  departedEntry(name: string): CameraEntry | undefined {
    const entry = this.departed.get(name);
    return entry && copyEntry(entry);
  }

  /** The configured name for a long UID (the longest configured UID that prefixes it). */
  nameFor(uid: string): string | undefined {
    return this.configuredFor(uid)?.name;
  }

  /**
   * The configured camera whose UID is the longest prefix of `uid`, whatever the order in
   * the file: with `UID-A` and `UID-AB` configured, `UID-AB-FW1234` is `UID-AB`'s camera.
   */
  private configuredFor(uid: string): { name: string; uid: string } | undefined {
    let best: { name: string; uid: string } | undefined;
    for (const camera of this.cameras) {
      if (!uid.startsWith(camera.uid)) continue;
      if (best === undefined || camera.uid.length > best.uid.length) best = camera;
    }
    return best;
  }

  /**
   * Records a heartbeat from `uid` at `address` (the UDP source). A new UID is refused
   * (`full`) when `maxCameras` fresh cameras are held; a known one always refreshes.
   */
  upsertHeartbeat(uid: string, address: Address, token: bigint, at = this.now()): UpsertResult {
    const existing = this.entries.get(uid);
    if (existing !== undefined && this.isFresh(existing, at)) {
      const moved = existing.address.ip !== address.ip || existing.address.port !== address.port;
      if (moved) existing.address = { ...address };
      existing.token = token;
      existing.lastHeartbeat = at;
      return { result: "refreshed", entry: existing, moved };
    }
    let evicted: CameraEntry[] = [];
    if (existing === undefined && this.entries.size >= this.maxCameras) {
      if (at > this.staleNoSoonerThan) evicted = this.sweep(at);
      if (this.entries.size >= this.maxCameras) return { result: "full" };
    }
    const entry: CameraEntry = {
      uid,
      address: { ...address },
      token,
      firstSeen: existing?.firstSeen ?? at,
      lastHeartbeat: at,
      wakes: existing?.wakes ?? 0,
    };
    const name = this.nameFor(uid);
    if (name !== undefined) entry.name = name;
    if (existing?.lastWake !== undefined) entry.lastWake = existing.lastWake;
    if (existing?.lastMotion !== undefined) entry.lastMotion = existing.lastMotion;
    this.put(entry);
    return { result: "registered", entry, evicted };
  }

  private put(entry: CameraEntry): void {
    if (entry.name !== undefined) this.departed.delete(entry.name);
    this.entries.set(entry.uid, entry);
    this.staleNoSoonerThan = Math.min(
      this.staleNoSoonerThan,
      entry.lastHeartbeat + this.staleAfterMs,
    );
    const short = entry.uid.slice(0, SHORT_UID_LENGTH);
    const uids = this.byShortUid.get(short);
    if (uids === undefined) this.byShortUid.set(short, [entry.uid]);
    else if (!uids.includes(entry.uid)) uids.push(entry.uid);
  }

  private remove(uid: string): void {
    this.entries.delete(uid);
    const short = uid.slice(0, SHORT_UID_LENGTH);
    const uids = this.byShortUid.get(short);
    if (uids === undefined) return;
    const at = uids.indexOf(uid);
    if (at >= 0) uids.splice(at, 1);
    if (uids.length === 0) this.byShortUid.delete(short);
  }

  /** The UIDs that may start with `prefix`: its index bucket, or every UID for a short prefix. */
  private candidates(prefix: string): Iterable<string> {
    if (prefix.length < SHORT_UID_LENGTH) return this.entries.keys();
    return this.byShortUid.get(prefix.slice(0, SHORT_UID_LENGTH)) ?? [];
  }

  private freshInternal(uidOrPrefix: string, at = this.now()): CameraEntry | undefined {
    const exact = this.entries.get(uidOrPrefix);
    if (exact !== undefined && this.isFresh(exact, at)) return exact;
    let best: CameraEntry | undefined;
    // A prefix that is a configured camera's UID matches only that camera's UIDs, not those a
    // longer configured UID claims (`UID-A` does not match `UID-AB`'s camera).
    const owner = this.configuredFor(uidOrPrefix);
    for (const uid of this.candidates(uidOrPrefix)) {
      const entry = this.entries.get(uid)!;
      if (!uid.startsWith(uidOrPrefix) || !this.isFresh(entry, at)) continue;
      if (owner !== undefined && this.configuredFor(uid) !== owner) continue;
      if (best === undefined || entry.lastHeartbeat > best.lastHeartbeat) best = entry;
    }
    return best;
  }

  /**
   * The fresh camera whose long UID equals or starts with `uidOrPrefix` (a short UID from
   * `C2R_C` or the config, in any case); on several matches the most recent heartbeat wins. A camera a
   * longer configured UID claims is not matched by another configured camera's shorter UID.
   */
  lookupFresh(uidOrPrefix: string): CameraEntry | undefined {
    if (uidOrPrefix === "") return undefined;
    // UIDs are matched in any case: cameras report them upper case, people type what they like.
    const upper = uidOrPrefix.toUpperCase();
    const entry = this.freshInternal(uidOrPrefix) ??
      (upper === uidOrPrefix ? undefined : this.freshInternal(upper));
    return entry && copyEntry(entry);
  }

  /** The fresh camera heartbeating from `ip` (most recent on several), for the push listener. */
  lookupByIp(ip: string): CameraEntry | undefined {
    const at = this.now();
    let best: CameraEntry | undefined;
    for (const entry of this.entries.values()) {
      if (entry.address.ip !== ip || !this.isFresh(entry, at)) continue;
      if (best === undefined || entry.lastHeartbeat > best.lastHeartbeat) best = entry;
    }
    return best && copyEntry(best);
  }

  /**
   * Resolves what a user typed (a configured name, a short or a long UID) to a fresh
   * camera, or undefined.
   */
  resolveTarget(target: string): CameraEntry | undefined {
    const configured = this.cameras.find((c) => c.name === target);
    return this.lookupFresh(configured?.uid ?? target);
  }

  /**
   * The camera a user means by `target`, registered or not: a configured name, a configured
   * UID, or a UID (or prefix) the registry holds or held (any case). Undefined when no camera
   * has that name or UID, so a typo is not recorded as a camera.
   */
  identify(target: string): { uid: string; name?: string } | undefined {
    const named = this.cameras.find((c) => c.name === target);
    if (named !== undefined) return { uid: named.uid, name: named.name };
    const upper = target.toUpperCase();
    const configured = this.cameras.find((c) => c.uid === upper);
    if (configured !== undefined) return { uid: configured.uid, name: configured.name };
    for (const uid of [target, upper]) {
      for (const candidate of this.candidates(uid)) {
        if (candidate.startsWith(uid)) return { uid: candidate, name: this.nameFor(candidate) };
      }
    }
    return undefined;
  }

  /** Counts a wake burst for `uid`. */
  recordWake(uid: string, at = this.now()): void {
    const entry = this.entries.get(uid);
    if (entry === undefined) return;
    entry.wakes++;
    entry.lastWake = at;
  }

  /** Remembers when the push listener last saw motion from `uid`. */
  recordMotion(uid: string, at: number): void {
    const entry = this.entries.get(uid);
    if (entry !== undefined) entry.lastMotion = at;
  }

  /** Removes every stale entry and returns them (copies). */
  sweep(at = this.now()): CameraEntry[] {
    const evicted: CameraEntry[] = [];
    let oldestFresh = Infinity;
    // With forEach: a for-of here (run once a second, so never optimized) made an iterator
    // result, and a `[uid, entry]` pair, per camera per second. Deleting the visited entry
    // during forEach is allowed.
    this.entries.forEach((entry) => {
      if (this.isFresh(entry, at)) {
        // Compared, not added up: a sum is a new heap number per camera until optimized.
        if (entry.lastHeartbeat < oldestFresh) oldestFresh = entry.lastHeartbeat;
        return;
      }
      this.remove(entry.uid);
      if (entry.name !== undefined) this.departed.set(entry.name, entry);
      evicted.push(copyEntry(entry));
    });
    this.staleNoSoonerThan = oldestFresh + this.staleAfterMs;
    return evicted;
  }

  /** Puts back entries loaded from the state file (stale ones are skipped, caps apply). */
  restore(entries: readonly CameraEntry[], at = this.now()): number {
    let restored = 0;
    for (const entry of entries) {
      if (!this.isFresh(entry, at) || this.entries.size >= this.maxCameras) continue;
      const copy = copyEntry(entry);
      const name = this.nameFor(entry.uid);
      if (name === undefined) delete copy.name;
      else copy.name = name;
      this.put(copy);
      restored++;
    }
    return restored;
  }
}
