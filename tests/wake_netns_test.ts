/**
 * The advertised address with a wildcard bind, seen from a camera on another network: a
 * namespace joined by a veth pair. The camera (its own process inside the namespace) must
 * be told our veth address; a loopback client must be told 127.0.0.1.
 */

import assert from "node:assert/strict";
import { ClientSim } from "./support/client_sim.ts";
import { createNetns } from "./support/netns.ts";
import { programPath } from "./support/programs.ts";
import { startTestServer } from "./support/wake_server.ts";

const CAMERA_MAIN = new URL("./support/camera_sim_main.ts", import.meta.url).pathname;
const UID = "95270000NETNS0000123";

async function probe(): Promise<string | undefined> {
  try {
    const ns = await createNetns();
    await ns.remove();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const cannot = await probe();

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
}

Deno.test({
  name: cannot === undefined
    ? "wildcard bind: each peer is told the local address that reaches it (netns camera)"
    : `wildcard bind advertised address (SKIPPED: cannot create a network namespace: ${cannot})`,
  ignore: cannot !== undefined,
  async fn() {
    const ns = await createNetns();
    const server = await startTestServer({ bind: "0.0.0.0", burstCount: 2, burstIntervalMs: 50 });
    const client = await ClientSim.start();
    const camera = new Deno.Command(programPath("ip"), {
      args: [
        "netns",
        "exec",
        ns.name,
        Deno.execPath(),
        "run",
        "--allow-all",
        "--quiet",
        CAMERA_MAIN,
        JSON.stringify({
          uid: UID,
          ip: ns.nsIp,
          middleman: { ip: ns.hostIp, port: server.middleman.port },
          wakes: 2,
          timeoutMs: 15_000,
        }),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => camera.kill("SIGKILL"), 30_000);
    try {
      const output = lines(camera.stdout);
      const booted = JSON.parse((await output.next()).value ?? "{}");
      assert.equal(booted.event, "booted", JSON.stringify(booted));
      assert.deepEqual(booted.register, { ip: ns.hostIp, port: server.register.port });
      assert.match(booted.m2dqrXml, new RegExp(`<log><ip>${ns.hostIp.replace(/\./g, "\\.")}</ip>`));
      assert.equal(server.registry.lookupFresh(UID)?.address.ip, ns.nsIp);

      const query = await client.query(server.middleman, UID.slice(0, 16));
      assert.deepEqual(query.message.fields.reg, { ip: "127.0.0.1", port: server.register.port });
      const { reply } = await client.connect(server.register, UID.slice(0, 16));
      assert.equal(reply.message.fields.rsp, 0);
      assert.deepEqual(reply.message.fields.relay, { ip: "127.0.0.1", port: server.register.port });
      assert.equal(reply.message.fields.dev?.ip, ns.nsIp);

      const woke = JSON.parse((await output.next()).value ?? "{}");
      assert.equal(woke.event, "wakes", JSON.stringify(woke));
      assert.equal(woke.wakes.length, 2);
      assert.match(
        woke.wakes[0].xml,
        new RegExp(
          `<relay><ip>${
            ns.hostIp.replace(/\./g, "\\.")
          }</ip><port>${server.register.port}</port></relay>`,
        ),
      );
      assert.doesNotMatch(woke.wakes[0].xml, /0\.0\.0\.0/);
      assert.equal((await camera.status).code, 0);
    } finally {
      clearTimeout(killer);
      try {
        camera.kill("SIGKILL");
      } catch { /* exited */ }
      await camera.status;
      await camera.stderr.cancel().catch(() => {});
      await camera.stdout.cancel().catch(() => {});
      await client.close();
      await server.close();
      await ns.remove();
    }
  },
});
