/**
 * Prints how many numbers mqtt-packet's write cache holds once a client has connected to the
 * broker at 127.0.0.1:PORT and sent its packets: `bridge` is bairelay's MQTT bridge (which
 * turns the cache off), `plain` an mqtt.js client with its defaults (the control: it fills
 * the cache, 65,536 ready Buffers, ~7 MB of heap, which also shows that this script reads
 * the mqtt-packet that mqtt.js writes with). Its own process: the cache is process-wide.
 *
 *   deno run -A tests/support/mqtt_number_cache.ts bridge|plain PORT
 */

import mqtt from "mqtt";
import numbers from "mqtt-packet/numbers.js";
import { MqttBridge } from "../../lib/mqtt/bridge.ts";

const [mode, port] = Deno.args;
if (mode === "bridge") {
  const bridge = MqttBridge.start({
    brokerAddr: "127.0.0.1",
    port: Number(port),
    topicPrefix: "cache",
    discoveryTopic: "homeassistant",
  }, { wake: () => ({ result: "started" }) });
  const deadline = Date.now() + 5000;
  while (bridge.status().connection !== "connected") {
    if (Date.now() > deadline) throw new Error("the bridge did not connect");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  bridge.setMotion({ uid: "95270000CACHE0000123" }, true);
  await bridge.close(); // publishes offline, then disconnects: every write is done
} else {
  const client = await mqtt.connectAsync({ host: "127.0.0.1", port: Number(port) });
  await client.publishAsync("cache/test", "1", { qos: 1 });
  await client.endAsync();
}
console.log(Object.keys(numbers.cache).length);
