/** Placeholder for subcommands that are planned but not built yet. */

import { Command } from "commander";
import { CliExit, EXIT } from "./exit_codes.ts";

/** A subcommand that exists in `--help` but says plainly it is not built yet (exit 2). */
export function notBuiltCommand(name: string, summary: string): Command {
  return new Command(name)
    .description(`${summary} (not built yet)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new CliExit(EXIT.USAGE, `bairelay ${name} is not built yet in this version`);
    });
}
