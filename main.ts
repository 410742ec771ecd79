/** bairelay: a local replacement for Reolink's cloud (wake server, push listener, tools). */

import { runCli } from "./cli/root.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
