/** Builds the `bairelay` command line and runs it, mapping every failure to an exit code. */

import { Command, CommanderError } from "commander";
import denoJson from "../deno.json" with { type: "json" };
import { decodeCommand } from "./decode.ts";
import { doctorCommand } from "./doctor.ts";
import { encodeCommand } from "./encode.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { pcapReplayCommand } from "./pcap_replay.ts";
import { registryCommand } from "./registry.ts";
import { serveCommand } from "./serve.ts";
import { wakeCommand } from "./wake.ts";

/** The program with every subcommand attached. */
export function buildProgram(): Command {
  const program = new Command("bairelay")
    .description(
      "Local replacement for Reolink's cloud: wake Argus battery cameras and learn about " +
        "motion without the internet. Point p2p*.reolink.com and pushx.reolink.com at this " +
        "box, then run `bairelay serve`.",
    )
    .version(denoJson.version, "-V, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeErr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)) });
  program.addCommand(serveCommand());
  program.addCommand(decodeCommand());
  program.addCommand(encodeCommand());
  program.addCommand(wakeCommand());
  program.addCommand(registryCommand());
  program.addCommand(doctorCommand());
  program.addCommand(pcapReplayCommand());
  return program;
}

/** Runs the CLI on `args` and returns the process exit code (0 ok, 1 failure, 2 usage, ...). */
export async function runCli(args: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return EXIT.OK;
      }
      return EXIT.USAGE;
    }
    if (error instanceof CliExit) {
      if (error.message) console.error(`bairelay: ${error.message}`);
      return error.code;
    }
    throw error;
  }
}
