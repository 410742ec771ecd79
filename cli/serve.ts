/** `bairelay serve`: parse flags, load the config, start the service, stop on SIGINT/SIGTERM. */

import { getLogger } from "@logtape/logtape";
import { Command, Option } from "commander";
import { ConfigError, type ConfigFlags, loadConfig } from "../lib/config.ts";
import { configureLogging } from "../lib/log.ts";
import { describeListening, type Service, startService, StateDirError } from "../lib/service.ts";
import { MqttConfigError } from "../lib/mqtt/errors.ts";
import { redirectAdvice, REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import { responderAdvice } from "../lib/dns/advice.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { describeConfig } from "./check_config.ts";

const log = getLogger(["bairelay", "serve"]);

/** A component that does not stop within this long no longer holds the process (ms). */
const STOP_LIMIT_MS = 3000;

interface ServeOptions extends ConfigFlags {
  config?: string;
  /** `--dns`: run the DNS responder. */
  dns?: boolean;
  /** commander's `--no-push`: false when given, true otherwise. */
  push?: boolean;
  /** `--check-config`: validate, print what would run, exit. */
  checkConfig?: boolean;
}

/** The `serve` subcommand. */
export function serveCommand(): Command {
  return new Command("serve")
    .description(
      "run the local wake server (UDP 9999 + 58200), the push listener that\n" +
        "turns camera pushes into motion (TCP 443), the optional MQTT bridge and\n" +
        "the control API (http://127.0.0.1:9899). Point your LAN's DNS for\n" +
        "p2p*.reolink.com and pushx.reolink.com at this box first. Flags override\n" +
        "the config file; sample_config.toml documents every setting.",
    )
    .option("-c, --config <file>", "TOML config file (default: built-in defaults)")
    .option("--bind <addr>", "address the UDP listeners bind (default 0.0.0.0)")
    .option("--middleman-port <port>", "middleman UDP port (default 9999)")
    .option("--register-port <port>", "register UDP port (default 58200)")
    .option("--api <addr>", 'control API "host:port", or "off" (default 127.0.0.1:9899)')
    .option("--state-dir <dir>", "where the registry is saved (default ~/.local/state/bairelay)")
    .option(
      "--push-port <port>",
      "push listener TCP port (default 443, needs root or CAP_NET_BIND_SERVICE)",
    )
    .option("--no-push", "do not run the push listener (motion from pushx.reolink.com)")
    .option(
      "--dns",
      "answer the cameras' DNS here: p2p*/pushx.reolink.com -> this box, the rest forwarded",
    )
    .option("--dns-port <port>", "DNS responder UDP+TCP port (default 53; implies --dns)")
    .option(
      "--check-config",
      "load and validate the configuration, print what would run, and exit (0 valid, 2 not)",
    )
    .addOption(
      new Option("--log-level <level>", "least severe level logged (default info)").choices([
        "trace",
        "debug",
        "info",
        "warn",
        "warning",
        "error",
        "fatal",
      ]),
    )
    .addOption(
      new Option("--log-format <format>", "log line format (default pretty)").choices([
        "pretty",
        "json",
      ]),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 stopped by SIGINT/SIGTERM, 1 a listener could not be opened or the\n" +
        "state directory is unusable (the message names the address or path, the cause and\n" +
        "the remedy), 2 bad flags or configuration.\n\n" +
        "Examples:\n" +
        "  bairelay serve\n" +
        "  bairelay serve --config /etc/bairelay/config.toml --log-level debug\n" +
        "  bairelay serve --bind 192.168.1.10 --api off --state-dir /var/lib/bairelay\n" +
        "  bairelay serve --push-port 8443 --config config.toml   # redirect 443 -> 8443 with nft",
    )
    .action(async (options: ServeOptions) => {
      const { config: path, push, dns, checkConfig, ...flags } = options;
      // Absent, commander says push: true, which must not override the file's `enable`.
      if (push === false) flags.pushEnable = false;
      if (dns || flags.dnsPort !== undefined) flags.dnsEnable = true;
      let config;
      try {
        config = loadConfig({ path, flags });
      } catch (error) {
        if (error instanceof ConfigError) {
          throw new CliExit(EXIT.USAGE, `invalid configuration:\n${error.message}`);
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
        if (isListenFailure(error) || error instanceof StateDirError) {
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
      if (!closed) {
        throw new CliExit(EXIT.FAILURE, `did not stop within ${STOP_LIMIT_MS} ms; exiting anyway`);
      }
      log.info("stopped");
    });
}

/** Bind failures from any listener carry the failing listener and an errno-like code. */
function isListenFailure(error: unknown): error is Error & { listener: string; code: string } {
  return error instanceof Error && typeof (error as { listener?: unknown }).listener === "string" &&
    typeof (error as { code?: unknown }).code === "string";
}

/** Watches for the first SIGINT or SIGTERM; `received` resolves with its name. */
function watchSignals(): { received: Promise<Deno.Signal>; dispose(): void } {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers: [Deno.Signal, () => void][] = [];
  const dispose = () => {
    for (const [signal, handler] of handlers.splice(0)) Deno.removeSignalListener(signal, handler);
  };
  const received = new Promise<Deno.Signal>((resolve) => {
    for (const signal of signals) {
      const handler = () => {
        dispose();
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      handlers.push([signal, handler]);
    }
  });
  return { received, dispose };
}
