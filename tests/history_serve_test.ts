/**
 * Every wake attributed, and serve's history of each camera: a real serve (in-process, real
 * sockets), the camera and client simulators, the API.
 */

import { strict as assert } from "node:assert";
import type { ServeEvent } from "../lib/serve/bus.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const UID = "95270000HISTORY1";

Deno.test("wakes carry their requester: a local client is the CLI, the API its caller, refusals too", async () => {
  const fixture = await startServiceFixture({
    wakeServer: { burstCount: 1, maxWakesPerHour: 2 },
    cameras: [{ name: "garden", uid: UID }],
  });
  const camera = await CameraSim.start({ uid: UID, middleman: fixture.middleman });
  const client = await ClientSim.start("127.0.0.3");
  const wakes: Extract<ServeEvent, { type: "wake" }>[] = [];
  fixture.service.bus.on("wake", (event) => wakes.push(event));
  try {
    await camera.boot();
    await client.connect(fixture.service.wake!.register, UID);
    assert.equal((await fixture.call("POST", "/api/cameras/garden/wake")).status, 202);
    await camera.waitForWakes(2);
    assert.equal((await fixture.call("POST", "/api/cameras/garden/wake")).status, 429);
    assert.deepEqual(
      wakes.map((event) => [event.source, event.requester, event.result]),
      [
        ["cli", { kind: "cli", address: "127.0.0.3" }, "started"],
        ["api", { kind: "api", address: "127.0.0.1" }, "started"],
        ["api", { kind: "api", address: "127.0.0.1" }, "over_budget"],
      ],
    );
  } finally {
    await client.close();
    await camera.close();
    await fixture.close();
  }
});
