/** Builds the `bairelay` command line and runs it, mapping every failure to an exit code. */

import { Command, CommanderError, type OutputConfiguration } from "commander";
import { VERSION } from "../lib/version.ts";
import { decodeCommand } from "./decode.ts";
import { doctorCommand } from "./doctor.ts";
import { encodeCommand } from "./encode.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { pcapReplayCommand } from "./pcap_replay.ts";
import { registryCommand } from "./registry.ts";
import { serveCommand } from "./serve.ts";
import { wakeCommand } from "./wake.ts";

/** What `--version` prints: bairelay's version and the Deno and V8 it runs on. */
export function versionText(): string {
  return `bairelay ${VERSION} (Deno ${Deno.version.deno}, V8 ${Deno.version.v8})`;
}

/** The hint printed after a command-line mistake. */
const HELP_HINT = "(run with --help for usage)";

/**
 * Commander's messages on stderr in bairelay's one error style, `bairelay: ...` (commander
 * itself writes `error: ...`), for the program and every subcommand alike.
 */
const OUTPUT: OutputConfiguration = {
  writeErr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
  outputError: (text, write) => write(text.replace(/^error: /, "bairelay: ")),
};

/** The program with every subcommand attached. */
export function buildProgram(): Command {
  const program = new Command("bairelay")
    .description(
      "Local replacement for Reolink's cloud: wake Argus battery cameras and learn about " +
        "motion without the internet. Point p2p*.reolink.com and pushx.reolink.com at this " +
        "box, then run `bairelay serve`.",
    )
    .version(versionText(), "-V, --version", "print the version (with Deno's and V8's)")
    .showHelpAfterError(HELP_HINT)
    .configureOutput(OUTPUT);
  const commands = [
    serveCommand(),
    decodeCommand(),
    encodeCommand(),
    wakeCommand(),
    registryCommand(),
    doctorCommand(),
    pcapReplayCommand(),
  ];
  for (const command of commands) {
    program.addCommand(command.showHelpAfterError(HELP_HINT).configureOutput(OUTPUT));
  }
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
