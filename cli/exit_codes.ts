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
