/** receive_buffer_bytes: a listener's kernel receive buffer, checked with `ss` (iproute2). */

import assert from "node:assert/strict";
import { MAX_RECEIVE_BUFFER_BYTES, setReceiveBuffer } from "../lib/net/receive_buffer.ts";
import { bindUdpListener } from "../lib/wake/udp_listener.ts";
import { programPath } from "./support/programs.ts";

const ignore = { onDatagram() {}, onSendFailed() {}, onReceiveError() {} };

/** The receive buffer (`rb`) the kernel reports for the UDP socket on local `port`. */
async function ssReceiveBuffer(port: number): Promise<number> {
  const { stdout } = await new Deno.Command(programPath("ss"), {
    args: ["-ulmn", `sport = :${port}`],
  }).output();
  const match = /rb(\d+)/.exec(new TextDecoder().decode(stdout));
  assert.ok(match, `ss shows no socket on port ${port}`);
  return Number(match[1]);
}

Deno.test("a listener gets the receive buffer it asks for, as the kernel reports it", async () => {
  const rmemMax = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_max"));
  const asked = 1 << 20;
  const listener = bindUdpListener("register", "127.0.0.1", 0, ignore, asked);
  try {
    const expected = 2 * Math.min(asked, rmemMax); // Linux doubles it, capped by rmem_max
    assert.deepEqual(listener.receiveBuffer, { granted: expected });
    assert.equal(await ssReceiveBuffer(listener.address.port), expected);
  } finally {
    await listener.close();
  }
  const plain = bindUdpListener("register", "127.0.0.1", 0, ignore);
  try {
    assert.equal(plain.receiveBuffer, undefined, "0 leaves the socket alone");
    const rmemDefault = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_default"));
    assert.equal(await ssReceiveBuffer(plain.address.port), rmemDefault);
  } finally {
    await plain.close();
  }
});

Deno.test("receive buffer problems are reported, never thrown", async () => {
  const listener = bindUdpListener("register", "127.0.0.1", 0, ignore);
  const free = listener.address.port;
  await listener.close();
  assert.deepEqual(setReceiveBuffer(free, 1 << 20), {
    problem: `no UDP socket of this process is bound to ${free}`,
  });
  for (const size of [0, -1, 1.5, MAX_RECEIVE_BUFFER_BYTES + 1]) {
    const result = setReceiveBuffer(free, size);
    assert.ok(
      "problem" in result && result.problem.includes(`${size} is not a size`),
      String(size),
    );
  }
});

Deno.test("without --allow-ffi the listener still binds and says what is missing", async () => {
  const script = `
    import { bindUdpListener } from ${
    JSON.stringify(new URL("../lib/wake/udp_listener.ts", import.meta.url).href)
  };
    const l = bindUdpListener("register", "127.0.0.1", 0,
      { onDatagram() {}, onSendFailed() {}, onReceiveError() {} }, 1 << 20);
    console.log(JSON.stringify(l.receiveBuffer));
    await l.close();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net", "--allow-read", "--unstable-net", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const result = JSON.parse(new TextDecoder().decode(stdout));
  assert.match(result.problem, /--allow-ffi/);
});
