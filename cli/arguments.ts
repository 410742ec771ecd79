/** Argument parsers shared by subcommands (commander `argParser` functions). */

import { InvalidArgumentError } from "commander";

/** A TCP/UDP port given on the command line: digits only, 1 to 65535. */
export function portArgument(text: string): number {
  const value = Number(text);
  if (!/^[0-9]{1,5}$/.test(text) || value < 1 || value > 65535) {
    throw new InvalidArgumentError("expected a port number from 1 to 65535");
  }
  return value;
}
