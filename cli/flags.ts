/**
 * A subcommand's flags as a table, and a strict reader of command lines that use only them.
 *
 * Why: commander imports `node:fs`, `node:child_process` and more, which bring up Deno's Node
 * compatibility layer: several MB that a long-running `serve` on a small box would carry all
 * day. So `serve`'s flags are written once here; commander builds its `--help`
 * and its error messages from the same table (`addFlags`), and `readFlags` reads an ordinary
 * command line without commander. `readFlags` accepts only what it fully understands and
 * returns null for anything else (help, unknown flags, missing values, a bad choice, a value
 * that starts with "-", positional words), and the caller then hands the whole command line
 * to commander, so every message and every edge case stays commander's. On what it accepts it
 * gives commander's own result (tests/cli_flags_test.ts checks that property).
 */

/** One flag, written the commander way: `"-c, --config <file>"`, `"--dns"`, `"--no-push"`. */
export interface FlagSpec {
  /** Short and long forms, and `<value>` when it takes one. */
  flags: string;
  /** What `--help` says about it. */
  description: string;
  /** The only values accepted, when the set is fixed. */
  choices?: readonly string[];
}

/** What a command line set: by commander's option names (camelCase of the long flag). */
export type FlagValues = Record<string, string | boolean>;

interface ParsedSpec {
  short?: string;
  long: string;
  key: string;
  takesValue: boolean;
  negates: boolean;
  choices?: readonly string[];
}

/** Splits a spec's `flags` into its parts; commander reads the same syntax. */
function parseSpec(spec: FlagSpec): ParsedSpec {
  const match = /^(?:-([a-zA-Z]), )?--([a-z][a-z0-9-]*)(?: <[a-z-]+>)?$/.exec(spec.flags);
  if (match === null) throw new Error(`flag spec not understood: ${spec.flags}`);
  const [, short, name] = match;
  const negates = name.startsWith("no-");
  const bare = negates ? name.slice(3) : name;
  return {
    short,
    long: name,
    key: bare.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
    takesValue: spec.flags.endsWith(">"),
    negates,
    choices: spec.choices,
  };
}

/**
 * Reads `args` (the words after the subcommand's name) against `specs`: `--long value`,
 * `--long=value`, `-s value`, and `--flag` / `--no-flag` for flags without a value, the last
 * one winning. A `--no-x` flag makes `x` true unless it is given (commander's rule). Returns
 * null for any word it does not fully understand: let commander handle that command line.
 */
export function readFlags(specs: readonly FlagSpec[], args: readonly string[]): FlagValues | null {
  const parsed = specs.map(parseSpec);
  const values: FlagValues = {};
  for (const spec of parsed) if (spec.negates) values[spec.key] = true;
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    const equals = word.startsWith("--") ? word.indexOf("=") : -1;
    const name = equals === -1 ? word : word.slice(0, equals);
    const spec = parsed.find((s) => `--${s.long}` === name || (s.short && `-${s.short}` === name));
    if (spec === undefined) return null;
    if (!spec.takesValue) {
      if (equals !== -1) return null;
      values[spec.key] = !spec.negates;
      continue;
    }
    const value = equals !== -1 ? word.slice(equals + 1) : args[++i];
    if (value === undefined || (equals === -1 && value.startsWith("-"))) return null;
    if (spec.choices && !spec.choices.includes(value)) return null;
    values[spec.key] = value;
  }
  return values;
}
