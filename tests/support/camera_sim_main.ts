/**
 * Runs one CameraSim as its own process (e.g. inside a network namespace with
 * `ip netns exec`). Argument: JSON `{uid, ip?, middleman: {ip, port}, wakes?: n,
 * timeoutMs?}`. Boots, prints `{"event":"booted", ...}` as one JSON line, then waits for
 * `wakes` R2D_C (default 0) and prints `{"event":"wakes", "wakes":[{xml, from}]}`.
 * Exits 0 on success, 1 with `{"event":"error","message"}` otherwise.
 */

import { CameraSim } from "./camera_sim.ts";

interface Args {
  uid: string;
  ip?: string;
  middleman: { ip: string; port: number };
  wakes?: number;
  timeoutMs?: number;
}

function print(value: unknown): void {
  console.log(JSON.stringify(value));
}

if (import.meta.main) {
  const args = JSON.parse(Deno.args[0]) as Args;
  const camera = await CameraSim.start({
    uid: args.uid,
    ip: args.ip ?? "0.0.0.0",
    middleman: args.middleman,
  });
  let code = 0;
  try {
    const boot = await camera.boot();
    print({
      event: "booted",
      address: camera.address,
      register: boot.register,
      m2dqrXml: boot.m2dqrXml,
    });
    if ((args.wakes ?? 0) > 0) {
      camera.startHeartbeats(500);
      const wakes = await camera.waitForWakes(args.wakes!, args.timeoutMs ?? 10_000);
      print({ event: "wakes", wakes: wakes.map((w) => ({ xml: w.xml, from: w.from })) });
    }
  } catch (error) {
    print({ event: "error", message: (error as Error).message });
    code = 1;
  } finally {
    await camera.close();
  }
  Deno.exit(code);
}
