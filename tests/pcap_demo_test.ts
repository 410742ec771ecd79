/**
 * The demo capture in fixtures/demo: the script writes exactly the shipped file, pcap-replay
 * shows the session on it and replays it against a real wake server, and `--target` with
 * nothing to replay says why.
 */

import assert from "node:assert/strict";
import { encodeDiscovery, message } from "../lib/bcudp/mod.ts";
import { concatBytes, LINKTYPE } from "../lib/pcap/mod.ts";
import { DEMO_UID, demoSessionCapture } from "./support/demo_session.ts";
import { ipPacket, linkFrame, pcapHeader, pcapRecord } from "./support/pcap_builder.ts";
import { replayAgainstTestServer } from "./support/replay_cli.ts";
import { runCli } from "./support/run_cli.ts";

const DEMO = new URL("../fixtures/demo/session.pcap", import.meta.url).pathname;
const SCRIPT = new URL("../scripts/make_demo_capture.ts", import.meta.url).pathname;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-demo-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the demo capture is what scripts/make_demo_capture.ts writes, every run", async () => {
  await withTempDir(async (dir) => {
    for (const name of ["a.pcap", "b.pcap"]) {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-write", "--quiet", SCRIPT, `${dir}/${name}`],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      assert.deepEqual(await Deno.readFile(`${dir}/${name}`), await Deno.readFile(DEMO));
    }
  });
  assert.deepEqual(demoSessionCapture(), await Deno.readFile(DEMO));
});

Deno.test("pcap-replay on the demo capture shows the boot, the heartbeats, the wake and the push", async () => {
  const result = await runCli(["pcap-replay", DEMO]);
  assert.equal(result.code, 0, result.stderr);
  const variants = result.stdout.split("\n")
    .map((line) => line.match(/^\s+\d+\.\d{6} {2}\S+ -> \S+ {2}(\S+)/)?.[1])
    .filter((variant) => variant !== undefined);
  assert.deepEqual(variants, [
    ...["D2M_Q", "M2D_Q_R", "D2R_R", "R2D_R_R"],
    ...["D2R_HB", "R2D_HB_R", "D2R_HB", "R2D_HB_R"],
    ...["C2M_Q", "M2C_Q_R", "C2R_C", "R2C_C_R", "R2C_T", "R2D_C", "R2D_C", "R2D_C", "D2R_C_R"],
    ...Array(7).fill("R2D_C"),
    ...["D2R_HB", "R2D_HB_R", "PUSH", "D2R_HB", "R2D_HB_R"],
  ]);
  assert.match(result.stdout, new RegExp(`cameras: 1\n    ${DEMO_UID}  from .* heartbeats 4`));
  assert.match(
    result.stdout,
    /wakes: 1\n {4}95270000DEMOCAMA from 127\.0\.0\.4:52578 \(cid 4242, sid 4147289643\): first R2D_C after 2\.0 ms \(10 sent to 127\.0\.0\.2:43847\), D2R_C_R 238\.0 ms later/,
  );
  assert.match(result.stdout, /push attempts: 1 \(127\.0\.0\.2 1\)/);
  assert.match(result.stdout, /decode errors: none\n {2}capture problems: none/);
});

Deno.test("pcap-replay --target replays the demo capture against a real wake server", async () => {
  const result = await replayAgainstTestServer(DEMO, {}, 20);
  // Boot, registration, heartbeats, the client's query and connect conform. The D2R_C_R
  // is left out: serve's burst goes on after it with the same tid, and how many R2D_C
  // follow it depends on the replay's speed.
  for (const exchange of ["D2M_Q", "D2R_R", "D2R_HB", "C2M_Q", "C2R_C"]) {
    assert.match(result.stdout, new RegExp(`^ok .* ${exchange} -> `, "m"), result.stdout);
    assert.doesNotMatch(
      result.stdout,
      new RegExp(`^DIFF .* ${exchange} -> `, "m"),
      result.stdout,
    );
  }
  assert.match(
    result.stdout,
    /^ok .* R2D_C to 127\.0\.0\.2:43847: captured 3, received \d+$/m,
    result.stdout,
  );
  assert.match(result.stdout, /^Replay: 10 checks \(9 exchanges, 1 unsolicited groups\)/m);
});

Deno.test("pcap-replay --target with nothing to replay says why and fails", async () => {
  const options = { linkType: LINKTYPE.ETHERNET };
  const frame = (ip: Uint8Array) => pcapRecord(options, 1000, linkFrame(LINKTYPE.ETHERNET, ip));
  const server = { ip: "127.0.0.1", port: 58200 };
  const answer = encodeDiscovery(message("R2D_R_R", { rsp: -4, ac: 7 }), 1);
  const captures = {
    // Only a push connection: no BcUdp at all.
    "push.pcap": [frame(ipPacket(
      { source: "127.0.0.2", destination: "127.0.0.1", sourcePort: 32824, destinationPort: 443 },
      "tcp",
    ))],
    // Only the server's side of the conversation.
    "answers.pcap": [frame(ipPacket(
      {
        source: server.ip,
        destination: "127.0.0.2",
        sourcePort: server.port,
        destinationPort: 40000,
      },
      "udp",
      answer,
    ))],
    // An empty capture (a header, no packets).
    "empty.pcap": [],
  };
  const why = {
    "push.pcap": /no BcUdp Discovery packet .*add --port N/,
    "answers.pcap":
      /none of the capture's 1 Discovery packets is a request from a camera or client \(C2M_Q, D2M_Q,/,
    "empty.pcap": /no BcUdp Discovery packet/,
  };
  await withTempDir(async (dir) => {
    for (const [name, records] of Object.entries(captures)) {
      const path = `${dir}/${name}`;
      await Deno.writeFile(path, concatBytes([pcapHeader(options), ...records]));
      const result = await runCli(["pcap-replay", path, "--target", "127.0.0.1"]);
      assert.equal(result.code, 1, name);
      assert.equal(result.stdout, "", name);
      assert.match(result.stderr, new RegExp(`${path}: nothing to replay: `), name);
      assert.match(result.stderr, why[name as keyof typeof why], name);
    }
  });
});
