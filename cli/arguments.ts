/**
 * Argument parsers shared by subcommands (commander `argParser` functions). A bad value is an
 * `InvalidArgumentError`, which commander prints in its one wording for every option:
 * `option '--flag <value>' argument 'x' is invalid. Expected ...`, then the --help hint.
 */

import { InvalidArgumentError } from "commander";
import { apiBaseUrl } from "../lib/api/client.ts";

/** A TCP/UDP port given on the command line: digits only, 1 to 65535. */
export function portArgument(text: string): number {
  const value = Number(text);
  if (!/^[0-9]{1,5}$/.test(text) || value < 1 || value > 65535) {
    throw new InvalidArgumentError("Expected a port number from 1 to 65535.");
  }
  return value;
}

/** A parser for a time limit in whole milliseconds, from 1 to `max` when given. */
export function millisecondsArgument(max?: number): (text: string) => number {
  const range = max === undefined ? "above 0" : `from 1 to ${max}`;
  return (text) => {
    const value = Number(text);
    if (!/^[0-9]+$/.test(text) || value < 1 || (max !== undefined && value > max)) {
      throw new InvalidArgumentError(`Expected a whole number of milliseconds ${range}.`);
    }
    return value;
  };
}

/**
 * The control API's address, `http://host:port` or `host:port` (as `[api] listen` writes it):
 * a malformed one is a mistake in the command line, not an API that cannot be reached.
 */
export function apiUrlArgument(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(apiBaseUrl(text));
  } catch { /* reported below */ }
  if (url === null || !["http:", "https:"].includes(url.protocol) || url.hostname === "") {
    throw new InvalidArgumentError(
      "Expected the API's address as http://HOST:PORT or HOST:PORT (this is not a valid URL), " +
        "e.g. http://127.0.0.1:9899.",
    );
  }
  return text;
}
