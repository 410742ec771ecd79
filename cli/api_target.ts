/**
 * Where a client subcommand (`registry`, `doctor`) finds `serve`'s control API: `--api`, else
 * `[api] listen` of serve's config file (`--config`), else the default; the token from
 * `--token`, else $BAIRELAY_API_TOKEN, else the config file.
 */

import { type Command, Option } from "commander";
import { ApiClientError, DEFAULT_API_URL } from "../lib/api/client.ts";
import { type Config, ConfigError, loadConfig } from "../lib/config.ts";
import { formatListen } from "../lib/net/listen_address.ts";
import { apiUrlArgument, millisecondsArgument } from "./arguments.ts";
import { CliExit, EXIT } from "./exit_codes.ts";

/** The API flags shared by the client subcommands. */
export interface ApiFlags {
  api?: string;
  token?: string;
}

/** The API to ask; `url` null when the config file turns it off (`offReason` says so). */
export interface ApiTarget {
  url: string | null;
  token?: string;
  offReason?: string;
}

/** Loads serve's config file; a file that does not load is a usage error (exit 2). */
export function loadConfigFile(path: string): Config {
  try {
    return loadConfig({ path });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliExit(EXIT.USAGE, `invalid configuration:\n${error.message}`);
    }
    throw error;
  }
}

/** The API address and token from the flags, the environment and `config` (a wildcard listen is reached through loopback). */
export function apiTarget(flags: ApiFlags, config: Config | null): ApiTarget {
  const token = flags.token ?? Deno.env.get("BAIRELAY_API_TOKEN") ?? config?.api.token ??
    undefined;
  if (flags.api !== undefined || config === null) {
    return { url: flags.api ?? DEFAULT_API_URL, token };
  }
  const listen = config.api.listen;
  if (listen === null) {
    return {
      url: null,
      token,
      offReason: `the control API is off in ${config.source} ([api] listen = "off")`,
    };
  }
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host === "::" ? "::1" : listen.host;
  return { url: `http://${formatListen({ host, port: listen.port })}`, token };
}

/**
 * The CliExit for a failed API call: 3 unreachable, 4 no answer in time, 2 token refused or a
 * request the API calls bad (400), 1 any other refusal. Other errors are rethrown.
 */
export function apiExit(error: unknown): CliExit {
  if (!(error instanceof ApiClientError)) throw error;
  const code = error.kind === "unreachable"
    ? EXIT.UNAVAILABLE
    : error.kind === "timeout"
    ? EXIT.TIMEOUT
    : error.status === 401 || error.status === 400
    ? EXIT.USAGE
    : EXIT.FAILURE;
  return new CliExit(code, error.message);
}

/** How long a client subcommand waits for the API by default, in ms. */
export const DEFAULT_API_TIMEOUT_MS = 5000;

/**
 * Adds the options every subcommand reading the API has, in one order: --api, --config,
 * --json (`json` says what it prints), --token and --timeout.
 */
export function addApiOptions(command: Command, json: string): Command {
  return command
    .option(
      "--api <url>",
      `Control API address (default: ${DEFAULT_API_URL})`,
      apiUrlArgument,
    )
    .option("-c, --config <file>", "Take the API address and token from serve's config file")
    .option("--json", json)
    .option("--token <token>", "Bearer token, if the API has one (default: $BAIRELAY_API_TOKEN)")
    .addOption(
      new Option("--timeout <ms>", "Give up after this many milliseconds")
        .default(DEFAULT_API_TIMEOUT_MS)
        .argParser(millisecondsArgument()),
    );
}
