import assert from "node:assert/strict";
import { cameraDiscovery, deviceId, legacyTopic } from "../lib/mqtt/discovery.ts";
import { Topics, topicSegment } from "../lib/mqtt/topics.ts";

Deno.test("topic layout under the prefix", () => {
  const topics = new Topics("bairelay");
  assert.equal(topics.availability, "bairelay/status");
  assert.equal(topics.state("garden", "motion"), "bairelay/garden/status/motion");
  assert.equal(topics.state("garden", "last_heartbeat"), "bairelay/garden/status/last_heartbeat");
  assert.equal(topics.wakeup("garden"), "bairelay/garden/control/wakeup");
  assert.equal(topics.wakeupFilter, "bairelay/+/control/wakeup");
  assert.equal(topics.camerasRegistered, "bairelay/cameras_registered");
  assert.equal(topics.state("garden", "wakes"), "bairelay/garden/status/wakes");
});

Deno.test("wakeup targets are parsed back; other topics are not targets", () => {
  const topics = new Topics("home/bairelay");
  assert.equal(topics.wakeupTarget("home/bairelay/garden/control/wakeup"), "garden");
  assert.equal(topics.wakeupTarget("home/bairelay//control/wakeup"), undefined);
  assert.equal(topics.wakeupTarget("home/bairelay/a/b/control/wakeup"), undefined);
  assert.equal(topics.wakeupTarget("other/garden/control/wakeup"), undefined);
  assert.equal(topics.wakeupTarget("home/bairelay/garden/status/motion"), undefined);
});

Deno.test("hostile UIDs cannot inject topic levels or wildcards", () => {
  assert.equal(topicSegment("9527/+/#"), "9527____");
  assert.equal(topicSegment("garden-1.cam_2"), "garden-1.cam_2");
  assert.equal(deviceId("a b"), "bairelay_a_b");
  // Home Assistant's node ids allow [A-Za-z0-9_-] only: a dot would make the topic illegal.
  assert.equal(deviceId("x.y"), "bairelay_x_y");
  const { topic, payload } = cameraDiscovery(
    { segment: topicSegment("x/#"), uid: "x/#" },
    { topics: new Topics("bairelay"), discoveryPrefix: "homeassistant", statusUrl: null },
  );
  assert.equal(topic, "homeassistant/device/bairelay_x__/config");
  const config = JSON.parse(payload);
  assert.equal(config.cmps.motion.state_topic, "bairelay/x__/status/motion");
  // Entity ids from a hostile UID hold only what Home Assistant allows (no "__" either).
  for (const entity of Object.values(config.cmps) as { default_entity_id: string }[]) {
    assert.match(entity.default_entity_id, /^(binary_sensor|button|sensor)\.x_[a-z0-9_]+$/);
    assert.ok(!entity.default_entity_id.includes("__"), entity.default_entity_id);
  }
});

Deno.test("the per-entity topics of earlier builds are recognised, nothing else", () => {
  const hit = (topic: string) => legacyTopic(topic, "homeassistant");
  assert.equal(hit("homeassistant/binary_sensor/bairelay_U1/motion/config"), "bairelay_U1");
  assert.equal(hit("homeassistant/button/bairelay_U1/wake/config"), "bairelay_U1");
  assert.equal(hit("homeassistant/sensor/bairelay_U1/last_heartbeat/config"), "bairelay_U1");
  assert.equal(hit("homeassistant/binary_sensor/bairelay_U1/registered/config"), "bairelay_U1");
  assert.equal(hit("homeassistant/binary_sensor/zigbee_U1/motion/config"), undefined);
  assert.equal(hit("homeassistant/sensor/bairelay_U1/motion/config"), undefined);
  assert.equal(hit("homeassistant/sensor/bairelay_U1/last_motion/config"), undefined);
  assert.equal(hit("homeassistant/device/bairelay_U1/config"), undefined);
  assert.equal(hit("other/binary_sensor/bairelay_U1/motion/config"), undefined);
});
