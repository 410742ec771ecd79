/**
 * The config file's key specs: each room declares its section as a table of keys (type,
 * default, bounds, help), and the section's typed value is inferred from that table, so a key
 * and its default are written once. Plain data and types only: the reading is in reader.ts.
 */

/** An integer key; `min` and `max` are its inclusive bounds. */
export interface IntegerKey {
  type: "integer";
  default: number;
  min: number;
  max: number;
  help: string;
}

/** A true/false key. */
export interface BooleanKey {
  type: "boolean";
  default: boolean;
  help: string;
}

/** A string key; absent `default` = optional (or computed by the room); `oneOf` = allowed values. */
export interface StringKey {
  type: "string";
  default?: string;
  oneOf?: readonly string[];
  help: string;
}

/** An array of exactly two strings (e.g. user name and password). */
export interface PairKey {
  type: "pair";
  help: string;
}

/** An array of at most `max` strings. */
export interface StringsKey {
  type: "strings";
  default?: readonly string[];
  max: number;
  help: string;
}

/** One key of the config file. */
export type KeySpec = IntegerKey | BooleanKey | StringKey | PairKey | StringsKey;

/** One table of the config file: its keys by their TOML names, in the order they are read. */
export type SectionSpec = Readonly<Record<string, KeySpec>>;

/**
 * Every table the file may hold. Names: "" is the top level, "a.b" the sub-table `b` of `a`,
 * "cameras[]" each entry of the `[[cameras]]` array.
 */
export type Schema = Readonly<Record<string, SectionSpec>>;

/** A TCP/UDP port key's bounds. */
export const PORT_BOUNDS = { type: "integer", min: 1, max: 65535 } as const;
/** One day, in ms: no timer in bairelay needs longer. */
export const MS_MAX = 86_400_000;

/** "heartbeat_ms" -> "heartbeatMs", as a type. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** The value a key holds once read: its default's type, `undefined` when it has none. */
export type ValueOf<K extends KeySpec> = K extends IntegerKey ? number
  : K extends BooleanKey ? boolean
  : K extends StringKey ? (K extends { oneOf: readonly (infer V)[] } ? V : string) | Absent<K>
  : K extends StringsKey ? readonly string[] | Absent<K>
  : readonly [string, string] | undefined;

type Absent<K> = K extends { default: unknown } ? never : undefined;

/** A section's values as read from the file, by camelCase name (the typed options). */
export type SectionValues<S extends SectionSpec> = {
  -readonly [Name in keyof S & string as CamelCase<Name>]: ValueOf<S[Name]>;
};

/** "heartbeat_ms" -> "heartbeatMs". */
export function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A section's defaults as its typed values (keys without a default are undefined). */
export function defaultsOf<S extends SectionSpec>(spec: S): SectionValues<S> {
  const values: Record<string, unknown> = {};
  for (const [key, keySpec] of Object.entries(spec)) {
    values[camelCase(key)] = "default" in keySpec ? keySpec.default : undefined;
  }
  return values as SectionValues<S>;
}

/** Why `value` breaks `spec` (e.g. "must be an integer from 1 to 65535"), or null when it fits. */
export function violation(value: unknown, spec: KeySpec): string | null {
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") return "must be a string";
      if (spec.oneOf && !spec.oneOf.includes(value)) {
        return `must be one of ${spec.oneOf.join(", ")}`;
      }
      return null;
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "strings":
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
        return 'must be an array of strings, e.g. ["a", "b"]';
      }
      return value.length > spec.max ? `must hold at most ${spec.max} entries` : null;
    case "pair":
      return Array.isArray(value) && value.length === 2 &&
          value.every((item) => typeof item === "string")
        ? null
        : 'must be an array of two strings, e.g. ["a", "b"]';
    case "integer": {
      const range = `an integer from ${spec.min} to ${spec.max}`;
      if (typeof value !== "number" || !Number.isInteger(value)) return `must be ${range}`;
      if (value < spec.min || value > spec.max) return `must be ${range}`;
      return null;
    }
  }
}
