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
      .summary("Run the relay: wake server, push, MQTT, API")
      .description(
        `Run the local wake server (UDP ${wake.middleman_port.default} + ` +
          `${wake.register_port.default}), the push listener that turns camera pushes into ` +
          `motion (TCP ${CONFIG_SCHEMA.push_listener.port.default}), the optional MQTT bridge ` +
          `and the control API (http://${CONFIG_SCHEMA.api.listen.default}). Point your LAN's ` +
          "DNS for p2p*.reolink.com and pushx.reolink.com at this box first. Flags override " +
          "the config file; sample_config.toml documents every setting.",
      ),
    SERVE_FLAGS,
  )
    .addHelpText(
      "after",
      `
Exit codes:
  0  stopped by SIGINT or SIGTERM
  1  a listener could not be opened or the state directory is unusable (the
     message names the address or path, the cause and the remedy)
  2  bad flags or configuration

Examples:
  bairelay serve
  bairelay serve --config /etc/bairelay/config.toml --log-level debug
  bairelay serve --bind 192.168.1.10 --api off --state-dir /var/lib/bairelay
  bairelay serve --push-port 8443   # with nft redirecting TCP 443 to 8443`,
    )
    .action(runServe);
}
