/**
 * Overlapping configured UIDs (`...ABCD` and `...ABCDE`): a camera belongs to the longest
 * configured prefix of its reported UID whatever the order in the file — in the camera list,
 * the event log (registrations and motion pushes) and wake targets (by name through the API, by
 * short UID through C2R_C). And the
 * R2D_C burst a client's C2R_C starts reuses that request's tid, as the original does.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { sendPush } from "./support/push_client.ts";
import { randomLoopback } from "./support/serve_process.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const SHORTER = "95270000ABCD";
const LONGER = "95270000ABCDE";
/** Reported by the camera of LONGER (and prefixed by SHORTER too). */
const LONG_CAMERA = "95270000ABCDEFGH1234";
/** Reported by the camera of SHORTER only. */
const SHORT_CAMERA = "95270000ABCDXYZW5678";

for (const order of ["shorter first", "longer first"]) {
  Deno.test(`uid prefix: the longest configured UID names the camera (${order})`, async () => {
    const configured = [{ name: "porch", uid: SHORTER }, { name: "garage", uid: LONGER }];
    if (order === "longer first") configured.reverse();
    const fixture = await startServiceFixture({
      cameras: configured,
      wakeServer: { burstCount: 2, burstIntervalMs: 10 },
      push: true,
    });
    const cameras: CameraSim[] = [];
    try {
      // The SHORTER camera first, so the LONGER one has the most recent heartbeat: a plain
      // "most recent prefix match" would pick it for "porch".
      for (const uid of [SHORT_CAMERA, LONG_CAMERA]) {
        const camera = await CameraSim.start({
          uid,
          ip: randomLoopback(),
          middleman: fixture.middleman,
        });
        cameras.push(camera);
        await camera.boot();
      }
      const [shortCamera, longCamera] = cameras;

      const list = await fixture.call("GET", "/api/cameras");
      const names = Object.fromEntries(
        list.json.cameras.map((c: { uid: string; name: string }) => [c.uid, c.name]),
      );
      assert.deepEqual(names, { [LONG_CAMERA]: "garage", [SHORT_CAMERA]: "porch" });
      const events = await fixture.call("GET", "/api/events");
      const registered = events.json.events
        .filter((e: { type: string }) => e.type === "registered")
        .map((e: { uid: string; name: string }) => [e.uid, e.name]);
      assert.deepEqual(
        Object.fromEntries(registered),
        { [LONG_CAMERA]: "garage", [SHORT_CAMERA]: "porch" },
      );

      // A motion push from each camera's address is logged under the right name.
      const push = fixture.service.motion!.push!.address;
      for (const camera of cameras) {
        await sendPush({ from: camera.address.ip, host: push.ip, port: push.port });
      }
      const pushed = await fixture.call("GET", "/api/events");
      const motions = pushed.json.events
        .filter((e: { type: string }) => e.type === "motion")
        .map((e: { uid: string; name: string }) => [e.uid, e.name]);
      assert.deepEqual(
        Object.fromEntries(motions),
        { [LONG_CAMERA]: "garage", [SHORT_CAMERA]: "porch" },
      );

      const porch = await fixture.call("POST", "/api/cameras/porch/wake");
      assert.equal(porch.status, 202, porch.text);
      assert.equal(porch.json.uid, SHORT_CAMERA);
      await shortCamera.waitForWakes(1);
      const garage = await fixture.call("POST", "/api/cameras/garage/wake");
      assert.equal(garage.json.uid, LONG_CAMERA);
      await longCamera.waitForWakes(1);

      // A client asking for the SHORTER UID reaches the porch camera, not the garage one.
      const client = await ClientSim.start();
      try {
        const register = fixture.service.wake!.register;
        // Both cameras have a running burst: wait for them to end (in_flight otherwise).
        await new Promise((resolve) => setTimeout(resolve, 200));
        const before = shortCamera.wakes.length;
        const porchAgain = await client.connect(register, SHORTER);
        assert.equal(porchAgain.reply.message.fields.rsp, 0);
        assert.equal(porchAgain.reply.message.fields.dev?.port, shortCamera.address.port);
        const wakes = await shortCamera.waitForWakes(before + 1);
        // The burst reuses the C2R_C's tid.
        const burst = wakes.slice(before);
        assert.ok(burst.length >= 1);
        for (const wake of burst) {
          assert.equal(wake.message.fields.sid, porchAgain.reply.message.fields.sid);
          assert.equal(wake.tid, porchAgain.reply.tid);
        }
      } finally {
        await client.close();
      }
    } finally {
      for (const camera of cameras) await camera.close();
      await fixture.close();
    }
  });
}
