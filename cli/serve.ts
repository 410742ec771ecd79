/** `bairelay serve` for commander: its `--help` and error messages, built from `SERVE_FLAGS`. */

import { Command } from "commander";
import { CONFIG_SCHEMA } from "../lib/config.ts";
import { addFlags } from "./command_flags.ts";
import { runServe, SERVE_FLAGS } from "./serve_run.ts";

/** The `serve` subcommand. */
export function serveCommand(): Command {
  const wake = CONFIG_SCHEMA.wake_server;
  return addFlags(
    new Command("serve")
      .description(
        `run the local wake server (UDP ${wake.middleman_port.default} + ` +
          `${wake.register_port.default}), the push listener that\n` +
          `turns camera pushes into motion (TCP ${CONFIG_SCHEMA.push_listener.port.default}), ` +
          "the optional MQTT bridge and\n" +
          `the control API (http://${CONFIG_SCHEMA.api.listen.default}). Point your LAN's DNS for\n` +
          "p2p*.reolink.com and pushx.reolink.com at this box first. Flags override\n" +
          "the config file; sample_config.toml documents every setting.",
      ),
    SERVE_FLAGS,
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
    .action(runServe);
}
