/**
 * What `bairelay serve` does once its flags are read: load the config, start the service, stop
 * on SIGINT/SIGTERM. Its flags are the table `SERVE_FLAGS`; `cli/serve.ts` builds commander's
 * command (help, errors) from it, and `cli/root.ts` reads an ordinary command line with
 * `readFlags` so a running server never loads commander (megabytes kept resident for nothing).
 */

import { getLogger } from "@logtape/logtape";
import { ConfigError, type ConfigFlags, FLAG_KEYS, keySpec, loadConfig } from "../lib/config.ts";
import { configureLogging, LOG_LEVELS } from "../lib/log.ts";
import {
  describeListening,
  type Service,
  startService,
  StateDirError,
} from "../lib/serve/service.ts";
import { MqttConfigError } from "../lib/mqtt/errors.ts";
import { ListenError } from "../lib/net/listen_error.ts";
import { redirectAdvice, REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import { responderAdvice } from "../lib/dns/advice.ts";
import { CliExit, EXIT, usageError } from "./exit_codes.ts";
import { describeConfig } from "./check_config.ts";
import type { FlagSpec } from "./flags.ts";

const log = getLogger(["bairelay", "serve"]);

/** A component that does not stop within this long no longer holds the process (ms). */
const STOP_LIMIT_MS = 3000;

/** The options `serve` runs with (commander's names, as `readFlags` gives them too). */
export interface ServeOptions extends ConfigFlags {
  config?: string;
  /** `--dns`: run the DNS responder. */
  dns?: boolean;
  /** commander's `--no-push`: false when given, true otherwise. */
  push?: boolean;
  /** `--check-config`: validate, print what would run, exit. */
  checkConfig?: boolean;
}

/**
 * A flag that sets a config key, for `--help`: the key's help text (capitalised, as every
 * description in a help list), then `note`, then the key's default as `(default: X)`.
 * The value's name (`<port>`) is commander's.
 */
function keyFlag(name: keyof typeof FLAG_KEYS, value: string, note = ""): FlagSpec {
  const { flag, key } = FLAG_KEYS[name];
  const spec = keySpec(key);
  const fallback = "default" in spec ? ` (default: ${spec.default})` : "";
  const choices = spec.type === "string" ? spec.oneOf : undefined;
  return {
    flags: `${flag} ${value}`,
    description: spec.help[0].toUpperCase() + spec.help.slice(1) + note + fallback,
    ...choices && { choices },
  };
}

/** Every `serve` flag, in `--help` order. */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  { flags: "-c, --config <file>", description: "TOML config file (default: built-in defaults)" },
  keyFlag("bind", "<addr>"),
  keyFlag("middlemanPort", "<port>"),
  keyFlag("registerPort", "<port>"),
  keyFlag("api", "<addr>"),
  keyFlag("stateDir", "<dir>", " (default: ~/.local/state/bairelay)"),
  keyFlag("pushPort", "<port>", "; below 1024 needs root or CAP_NET_BIND_SERVICE"),
  {
    flags: "--no-push",
    description: "Do not run the push listener (motion from pushx.reolink.com)",
  },
  {
    flags: "--dns",
    description:
      "Answer the cameras' DNS here: p2p*/pushx.reolink.com -> this box, the rest forwarded",
  },
  keyFlag("dnsPort", "<port>", "; implies --dns"),
  {
    flags: "--check-config",
    description:
      "Load and validate the configuration, print what would run, and exit (0 valid, 2 not)",
  },
  {
    ...keyFlag("logLevel", "<level>"),
    // "warn", an alias of "warning", listed beside it.
    choices: LOG_LEVELS.flatMap((level) => level === "warning" ? ["warn", level] : [level]),
  },
  keyFlag("logFormat", "<format>"),
];

/**
 * Runs `serve` with `options` until SIGINT/SIGTERM (or, with `checkConfig`, validates and
 * returns). Throws CliExit with the exit code and message for every failure a user can act on.
 */
export async function runServe(options: ServeOptions): Promise<void> {
  const { config: path, push, dns, checkConfig, ...flags } = options;
  // Absent, commander says push: true, which must not override the file's `enable`.
  if (push === false) flags.pushEnable = false;
  if (dns || flags.dnsPort !== undefined) flags.dnsEnable = true;
  let config;
  try {
    config = loadConfig({ path, flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      const message = `invalid configuration:\n${error.message}`;
      // A flag's value at fault is a command-line mistake: the same hint as every other one.
      const fromFlag = error.problems.some((problem) => problem.source.startsWith("--"));
      throw fromFlag ? usageError(message) : new CliExit(EXIT.USAGE, message);
    }
    throw error;
  }
  if (checkConfig) {
    const lines = ["configuration is valid; serve would run:", ...describeConfig(config)];
    console.log(lines.join("\n  "));
    return;
  }
  configureLogging(config.log);
  // Listen for signals before starting, so a SIGTERM during startup still stops cleanly.
  const stopSignal = watchSignals();
  let service: Service;
  try {
    service = await startService(config);
  } catch (error) {
    stopSignal.dispose();
    if (error instanceof ListenError || error instanceof StateDirError) {
      throw new CliExit(EXIT.FAILURE, error.message);
    }
    if (error instanceof MqttConfigError) throw new CliExit(EXIT.USAGE, error.message);
    throw error;
  }
  log.info(
    "bairelay serve ready: {listening}; config {config}; state in {stateDir}; " +
      "point the cameras' DNS at {addresses}",
    {
      listening: describeListening(service.listening).join(", "),
      addresses: service.advertisedAddresses.join(" or ") || "this box's LAN address",
      config: config.source ?? "(built-in defaults)",
      stateDir: config.stateDir,
    },
  );
  if (service.wake) {
    log.info("{advice}", {
      advice: service.dns
        ? responderAdvice(service.dns.address, service.advertisedAddresses)
        : redirectAdvice(service.advertisedAddresses),
      addresses: service.advertisedAddresses,
      hosts: REOLINK_HOSTS,
    });
    if (service.wake.registry.size === 0) {
      log.info(
        "No cameras registered yet: each registers within a minute of its DNS answer " +
          "pointing here; `bairelay registry` lists them, `bairelay doctor` says what is wrong.",
      );
    }
  }
  const signal = await stopSignal.received;
  log.info("{signal} received, stopping", { signal });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    service.close().then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), STOP_LIMIT_MS)),
  ]);
  clearTimeout(timer);
  // The handlers stay until the process exits, right after this returns: removed, a signal
  // still on its way (the second copy of a Ctrl-C) would end the process with code 130.
  if (!closed) {
    throw new CliExit(EXIT.FAILURE, `did not stop within ${STOP_LIMIT_MS} ms; exiting anyway`);
  }
  log.info("stopped");
}

/**
 * Watches for SIGINT and SIGTERM; `received` resolves with the first one's name. The handlers
 * stay until `dispose()` (serve leaves them to the process's exit): a terminal's Ctrl-C reaches serve twice (the terminal signals the
 * whole process group, and `deno task` forwards its copy), and a second signal without a
 * handler would kill serve halfway through its stop, before the state is flushed. Later
 * signals are logged and otherwise wait for the stop under way (bounded by STOP_LIMIT_MS).
 */
function watchSignals(): { received: Promise<Deno.Signal>; dispose(): void } {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers: [Deno.Signal, () => void][] = [];
  const dispose = () => {
    for (const [signal, handler] of handlers.splice(0)) Deno.removeSignalListener(signal, handler);
  };
  let first: Deno.Signal | null = null;
  const received = new Promise<Deno.Signal>((resolve) => {
    for (const signal of signals) {
      const handler = () => {
        if (first === null) {
          first = signal;
          resolve(signal);
          return;
        }
        log.info(
          "{signal} received while stopping after {first}: the stop goes on (at most {limit} ms)",
          { signal, first, limit: STOP_LIMIT_MS },
        );
      };
      Deno.addSignalListener(signal, handler);
      handlers.push([signal, handler]);
    }
  });
  return { received, dispose };
}
