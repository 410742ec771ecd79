/**
 * Runs the `bairelay` command line and maps every failure to an exit code. A plain `serve`
 * command line (only its own flags, see `readFlags`) is read here and run without loading
 * commander, so the long-running server never carries commander's Node modules;
 * every other command line, `serve --help` and every usage error included, goes to commander
 * (`cli/program.ts`), which prints the help and the messages.
 */

import { CliExit, EXIT } from "./exit_codes.ts";
import { readFlags } from "./flags.ts";
import type { ServeOptions } from "./serve_run.ts";

/** Runs the CLI on `args` and returns the process exit code (0 ok, 1 failure, 2 usage, ...). */
export async function runCli(args: string[]): Promise<number> {
  try {
    if (args[0] === "serve") {
      const serve = await import("./serve_run.ts");
      const options = readFlags(serve.SERVE_FLAGS, args.slice(1));
      if (options !== null) {
        await serve.runServe(options as ServeOptions);
        return EXIT.OK;
      }
    }
    return await (await import("./program.ts")).runProgram(args);
  } catch (error) {
    if (error instanceof CliExit) {
      if (error.message) console.error(`bairelay: ${error.message}`);
      return error.code;
    }
    throw error;
  }
}
