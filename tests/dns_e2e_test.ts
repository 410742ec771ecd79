/**
 * End to end through `bairelay serve --dns-port`: a simulated camera resolves p2p.reolink.com
 * through the built-in DNS responder (Deno's own resolver, the way a camera uses the DNS server
 * it was given), sends its D2M_Q to the answered address, registers, and is woken through the
 * API. The serve log names the camera's address and the answer; /api/status lists the listener.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { freeUdpPort, randomLoopback, ServeProcess, serveSetup } from "./support/serve_process.ts";

const LONG_UID = "95270000DNSE2E000001";

Deno.test("dns e2e: a camera resolves p2p.reolink.com here, registers and is woken", async () => {
  const { ip, ports, args, remove } = await serveSetup({
    toml: "[push_listener]\nenable = false\n\n[dns]\nforward = false\n",
    prefix: "bairelay-dns-e2e-",
  });
  let dnsPort = await freeUdpPort(ip);
  while ([ports.middleman, ports.register, ports.api].includes(dnsPort)) {
    dnsPort = await freeUdpPort(ip);
  }
  const serve = ServeProcess.start([...args, "--dns-port", String(dnsPort)]);
  const cameraIp = randomLoopback();
  let camera: CameraSim | undefined;
  try {
    await serve.ready();
    assert.match(serve.stderr, new RegExp(`dns udp\\+tcp ${ip.replaceAll(".", "\\.")}:${dnsPort}`));
    await serve.waitFor(/The DNS responder is on/);
    assert.ok(
      serve.stderr.includes(`The DNS responder is on: make ${ip} the cameras' DNS server`) &&
        serve.stderr.includes(`dig @${ip} -p ${dnsPort} p2p.reolink.com`),
      serve.stderr,
    );

    const answered = await Deno.resolveDns("p2p.reolink.com", "A", {
      nameServer: { ipAddr: ip, port: dnsPort },
    });
    assert.deepEqual(answered, [ip]);
    await serve.waitFor(/asked for p2p\.reolink\.com: answered/);
    assert.match(serve.stderr, new RegExp(`\\S+ asked for p2p\\.reolink\\.com: answered ${ip}`));

    camera = await CameraSim.start({
      uid: LONG_UID,
      ip: cameraIp,
      middleman: { ip: answered[0], port: ports.middleman },
    });
    await camera.boot();
    const api = `http://${ip}:${ports.api}`;
    const woken = await fetch(`${api}/api/cameras/${LONG_UID}/wake`, { method: "POST" });
    assert.equal(woken.status, 202, await woken.text());
    const wakes = await camera.waitForWakes(1);
    assert.ok(wakes.length >= 1);

    const status = await (await fetch(`${api}/api/status`)).json();
    const dns = status.listeners.find((listener: { name: string }) => listener.name === "dns");
    assert.deepEqual(dns, {
      name: "dns",
      protocol: "udp+tcp",
      state: "up",
      address: `${ip}:${dnsPort}`,
      reason: null,
    });
    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(metrics, /bairelay_dns_queries_total\{result="intercepted"\} 1\n/);
    assert.match(metrics, /bairelay_dns_queries_total\{result="refused"\} 0\n/);
  } finally {
    await camera?.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, serve.stderr);
    await remove();
  }
});
