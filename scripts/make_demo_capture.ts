/**
 * Writes the demo capture, `fixtures/demo/session.pcap` (or the path given), with the
 * project's capture builder: the same bytes every run, so a test can check the shipped file.
 *
 *   scripts/deno run --allow-write scripts/make_demo_capture.ts [PATH]
 */

import { demoSessionCapture } from "../tests/support/demo_session.ts";

const path = Deno.args[0] ?? new URL("../fixtures/demo/session.pcap", import.meta.url).pathname;
await Deno.writeFile(path, demoSessionCapture());
console.log(`wrote ${path}`);
