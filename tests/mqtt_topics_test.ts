import assert from "node:assert/strict";
import { deviceId, discoveryMessages } from "../lib/mqtt/discovery.ts";
import { Topics, topicSegment } from "../lib/mqtt/topics.ts";

Deno.test("topic layout under the prefix", () => {
  const topics = new Topics("bairelay");
  assert.equal(topics.availability, "bairelay/status");
  assert.equal(topics.state("garden", "motion"), "bairelay/garden/status/motion");
  assert.equal(topics.state("garden", "last_heartbeat"), "bairelay/garden/status/last_heartbeat");
  assert.equal(topics.wakeup("garden"), "bairelay/garden/control/wakeup");
  assert.equal(topics.wakeupFilter, "bairelay/+/control/wakeup");
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
  const messages = discoveryMessages(
    { segment: topicSegment("x/#"), uid: "x/#" },
    new Topics("bairelay"),
    "homeassistant",
  );
  for (const { topic, payload } of messages) {
    assert.match(
      topic,
      /^homeassistant\/(binary_sensor|button|sensor)\/bairelay_x__\/\w+\/config$/,
    );
    assert.doesNotThrow(() => JSON.parse(payload));
  }
});
