/** A `FlagSpec` table (cli/flags.ts) as commander options: one table for help and parsing. */

import { type Command, Option } from "commander";
import type { FlagSpec } from "./flags.ts";

/** Adds every flag of `specs` to `command`, in order, with its choices; returns `command`. */
export function addFlags(command: Command, specs: readonly FlagSpec[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flags, spec.description);
    command.addOption(spec.choices ? option.choices(spec.choices) : option);
  }
  return command;
}
