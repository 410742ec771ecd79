/**
 * Reads a parsed TOML tree against the key specs, recording every problem (source, key, rule)
 * rather than stopping at the first, so one run of `serve --check-config` lists them all. The
 * rooms read their sections with it; lib/config.ts assembles them.
 */

import { isAbsolute, resolve } from "../paths.ts";
import { ipVersion } from "../net/ip.ts";
import { camelCase, type Schema, type SectionSpec, type SectionValues, violation } from "./spec.ts";

/** A TOML table as parsed. */
export type Table = Record<string, unknown>;

/** One thing wrong with the configuration: where it came from, which key, which rule. */
export interface ConfigProblem {
  /** The file path, or the flag (e.g. "--middleman-port"), or "defaults". */
  source: string;
  /** Dotted key, e.g. "wake_server.heartbeat_ms" or "cameras[1].uid". */
  key: string;
  /** What the key must satisfy (and, for unknown keys, the closest valid one). */
  rule: string;
}

/** The configuration is unusable; `problems` lists every issue found, `message` one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.source}: ${p.key}: ${p.rule}`).join("\n"));
    this.name = "ConfigError";
  }
}

/** Environment facts the defaults depend on (passed in so tests control them). */
export interface ConfigEnv {
  /** Effective user id (0 = root); null when unknown (e.g. Windows). */
  uid: number | null;
  /** Environment variables (HOME, XDG_STATE_HOME, the BAIRELAY_MQTT_* secrets). */
  vars: Record<string, string | undefined>;
}

/** Walks the raw TOML tree against `schema`, collecting problems in `problems`. */
export class ConfigReader {
  readonly problems: ConfigProblem[] = [];

  constructor(
    readonly schema: Schema,
    /** The file path, or "defaults". */
    readonly file: string,
    /** The flag that set each dotted key, when a flag did. */
    readonly origins: Map<string, string>,
    /** Where relative paths in the file start. */
    readonly baseDir: string,
    readonly env: ConfigEnv,
  ) {}

  /** Records a problem for `key`, attributed to the flag that set it or to the file. */
  fail(key: string, rule: string): void {
    this.problems.push({ source: this.origins.get(key) ?? this.file, key, rule });
  }

  /** Whether a command-line flag set `key` (dotted). */
  fromFlag(key: string): boolean {
    return this.origins.has(key);
  }

  /** Checks `raw` is a table and holds only known keys; returns it ({} when absent or bad). */
  table(raw: unknown, section: string, path = section): Table {
    if (raw === undefined) return {};
    if (!isTable(raw)) {
      this.fail(path, `must be a table ([${path}])`);
      return {};
    }
    const known = this.knownKeys(section);
    for (const key of Object.keys(raw)) {
      if (known.includes(key)) continue;
      const full = path ? `${path}.${key}` : key;
      const suggestion = closest(key, known);
      const where = path ? `in [${path}]` : "at the top level";
      this.fail(
        full,
        `unknown key ${where}` +
          (suggestion ? ` (did you mean "${suggestion}"?)` : ` (valid: ${known.join(", ")})`),
      );
    }
    return raw;
  }

  /**
   * Every key of `spec` from `table`, each checked against its spec: its default when absent
   * or invalid (an invalid one is recorded). `path` prefixes the keys in problems.
   */
  values<S extends SectionSpec>(table: Table, spec: S, path: string): SectionValues<S> {
    const values: Record<string, unknown> = {};
    for (const [key, keySpec] of Object.entries(spec)) {
      const fallback = "default" in keySpec ? keySpec.default : undefined;
      const value = table[key];
      let read = value ?? fallback;
      if (value !== undefined) {
        const rule = violation(value, keySpec);
        if (rule) {
          this.fail(path ? `${path}.${key}` : key, `${rule} (got ${show(value)})`);
          read = fallback;
        }
      }
      values[camelCase(key)] = read;
    }
    return values as SectionValues<S>;
  }

  /** An optional string that, when present, must not be empty; null when absent or empty. */
  nonEmpty(key: string, value: string | undefined): string | null {
    if (value === undefined) return null;
    if (value.trim() === "") {
      this.fail(key, "must not be empty (leave the key out instead)");
      return null;
    }
    return value;
  }

  /** An IP address literal (bind addresses); `fallback` when absent or not an address. */
  address(key: string, value: string | undefined, fallback: string): string {
    if (value === undefined) return fallback;
    if (ipVersion(value) === 0) {
      this.fail(
        key,
        `must be an IP address such as 0.0.0.0, 192.168.1.10 or :: (got ${show(value)})`,
      );
      return fallback;
    }
    return value;
  }

  /** A file named in the config (e.g. TLS files): a relative path is relative to the file. */
  fileInConfig(path: string): string {
    return isAbsolute(path) ? path : resolve(this.baseDir, path);
  }

  /** Keys allowed in a table: its own keys plus the names of its sub-tables. */
  knownKeys(section: string): string[] {
    const keys = Object.keys(this.schema[section] ?? {});
    const prefix = section === "" ? "" : `${section}.`;
    for (const name of Object.keys(this.schema)) {
      if (name === section || !name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length).replace(/\[\]$/, "");
      if (rest && !rest.includes(".")) keys.push(rest);
    }
    return keys;
  }
}

/** A TOML table (not an array, date or scalar). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** A value as a problem quotes it: strings in JSON quotes, the rest as they print. */
export function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** The candidate nearest to `word` by edit distance, if it is plausibly a typo of it. */
function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
