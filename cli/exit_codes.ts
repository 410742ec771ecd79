/** Process exit codes shared by every subcommand (documented in docs/commands.md). */
export const EXIT = {
  /** Everything worked. */
  OK: 0,
  /** The input could not be decoded/encoded, a reply was unusable, or `doctor` found a problem. */
  FAILURE: 1,
  /** Bad command line, bad configuration, or a subcommand that is not available. */
  USAGE: 2,
  /** The camera is not registered, or the control API is unreachable. */
  UNAVAILABLE: 3,
  /** No answer in time. */
  TIMEOUT: 4,
} as const;

/** An error a subcommand raises to end with a message on stderr and a given exit code. */
export class CliExit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "CliExit";
  }
}

/** The line after every mistake in the command line: commander's errors and `usageError`'s. */
export const HELP_HINT = "(run with --help for usage)";

/**
 * A mistake in the command line that commander cannot see (a missing input, a name that is not
 * a camera): exit 2, printed like commander's own errors, the message and then HELP_HINT.
 */
export function usageError(message: string): CliExit {
  return new CliExit(EXIT.USAGE, `${message}\n${HELP_HINT}`);
}
