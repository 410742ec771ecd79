/**
 * The `bairelay` program for commander: every subcommand, `--help`, `--version` and commander's
 * messages in bairelay's error style. `cli/root.ts` runs it for every command line it does
 * not read itself.
 */

import { Command, CommanderError, type OutputConfiguration } from "commander";
import { VERSION } from "../lib/version.ts";
import { EXIT, HELP_HINT } from "./exit_codes.ts";

/**
 * Every subcommand, in `--help` order, by name and the module that builds it. A module is
 * loaded only when its subcommand runs (or when the program's help lists them all), so a
 * long-running `serve` does not keep the code of `pcap-replay`, `doctor` and the rest resident.
 */
const SUBCOMMANDS: readonly { name: string; load: () => Promise<Command> }[] = [
  { name: "serve", load: async () => (await import("./serve.ts")).serveCommand() },
  { name: "decode", load: async () => (await import("./decode.ts")).decodeCommand() },
  { name: "encode", load: async () => (await import("./encode.ts")).encodeCommand() },
  { name: "wake", load: async () => (await import("./wake.ts")).wakeCommand() },
  { name: "registry", load: async () => (await import("./registry.ts")).registryCommand() },
  { name: "history", load: async () => (await import("./history.ts")).historyCommand() },
  { name: "doctor", load: async () => (await import("./doctor.ts")).doctorCommand() },
  {
    name: "pcap-replay",
    load: async () => (await import("./pcap_replay.ts")).pcapReplayCommand(),
  },
];

/** What `--version` prints: bairelay's version and the Deno and V8 it runs on. */
export function versionText(): string {
  return `bairelay ${VERSION} (Deno ${Deno.version.deno}, V8 ${Deno.version.v8})`;
}

/**
 * What `-h, --help` says in every command's option list. Every description in a list (commands,
 * options, arguments) is written the same way: a capital first letter, no final period.
 */
const HELP_OPTION_DESCRIPTION = "Show this help";

/**
 * Commander's messages on stderr in bairelay's one error style, `bairelay: ...` (commander
 * itself writes `error: ...`), for the program and every subcommand alike.
 */
const OUTPUT: OutputConfiguration = {
  writeErr: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
  outputError: (text, write) => write(text.replace(/^error: /, "bairelay: ")),
};

/**
 * The program with the subcommands named in `names` attached (default: all of them). Parsing
 * arguments that start with a subcommand's name needs only that subcommand.
 */
export async function buildProgram(
  names: readonly string[] = SUBCOMMANDS.map((s) => s.name),
): Promise<Command> {
  const program = new Command("bairelay")
    .description(
      "Local replacement for Reolink's cloud: wake Argus battery cameras and learn about " +
        "motion without the internet. Point p2p*.reolink.com and pushx.reolink.com at this " +
        "box, then run `bairelay serve`.",
    )
    .version(versionText(), "-V, --version", "Print the version (with Deno's and V8's)")
    .helpOption("-h, --help", HELP_OPTION_DESCRIPTION)
    .helpCommand("help [command]", "Show the help of a command")
    .addHelpText("after", "\nEach command's --help shows its options, exit codes and examples.")
    .showHelpAfterError(HELP_HINT)
    .configureOutput(OUTPUT);
  const chosen = SUBCOMMANDS.filter((s) => names.includes(s.name));
  const commands = await Promise.all(chosen.map((s) => s.load()));
  for (const command of commands) {
    program.addCommand(
      command.helpOption("-h, --help", HELP_OPTION_DESCRIPTION).showHelpAfterError(HELP_HINT)
        .configureOutput(OUTPUT),
    );
  }
  return program;
}

/**
 * Parses `args` with commander and runs the subcommand they name. Resolves with the exit code
 * of what commander handled itself (0 after help or the version, 2 after a usage error);
 * errors the subcommand throws (CliExit among them) are the caller's.
 */
export async function runProgram(args: string[]): Promise<number> {
  const named = SUBCOMMANDS.some((s) => s.name === args[0]);
  const program = await buildProgram(named ? [args[0]] : undefined);
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT.OK;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const shown = ["commander.helpDisplayed", "commander.version", "commander.help"];
    return shown.includes(error.code) ? EXIT.OK : EXIT.USAGE;
  }
}
