/**
 * Replay against scripted UDP servers on loopback, from crafted captures: session values fed
 * back (the D2R_R carries the token the target issued), "ac after D2R_R" consistency, missing
 * and different answers, port mapping, one socket per captured source, and timing.
 */

import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import dgram from "node:dgram";
import {
  decodeDatagram,
  encodeDiscovery,
  encodeDiscoveryXml,
  type Message,
  message,
  writeMessage,
} from "../lib/bcudp/mod.ts";
import {
  compareMessages,
  concatBytes,
  LINKTYPE,
  MAX_REPLAY_PACKETS,
  replayCapture,
  ReplayError,
  type ReplayOptions,
  SessionValues,
  type Verdict,
} from "../lib/pcap/mod.ts";
import { type Flow, ipPacket, pcapHeader, pcapRecord } from "./support/pcap_builder.ts";

const UID = "9527000ABCDEFGHI0123";

/** A request the scripted server saw. */
interface Seen {
  message: Message;
  from: string;
  at: number;
}

/** A middleman and a register on 127.0.0.1 answering with `answer` (undefined = silence). */
async function scriptedServer(answer: (request: Message) => Message | undefined) {
  const seen: Seen[] = [];
  const open = async () => {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind({ address: "127.0.0.1", port: 0 }, resolve));
    socket.on("message", (bytes: Buffer, from: dgram.RemoteInfo) => {
      for (const packet of decodeDatagram(new Uint8Array(bytes))) {
        if (packet.kind !== "discovery") continue;
        seen.push({
          message: packet.message,
          from: `${from.address}:${from.port}`,
          at: Date.now(),
        });
        const reply = answer(packet.message);
        if (reply) socket.send(encodeDiscovery(reply, packet.tid), from.port, from.address);
      }
    });
    return socket;
  };
  const middleman = await open();
  const register = await open();
  return {
    seen,
    middlemanPort: middleman.address().port,
    registerPort: register.address().port,
    close: () =>
      Promise.all(
        [middleman, register].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ),
  };
}

const M2D_Q_R = (token: bigint, ac: number) =>
  message("M2D_Q_R", {
    reg: { ip: "127.0.0.1", port: 58200 },
    log: { ip: "127.0.0.1", port: 58200 },
    timer: true,
    retry: true,
    rsp: 0,
    token,
    ac,
  });

const toServer = (source: string, port: number): Flow => ({
  source,
  destination: "192.0.2.1",
  sourcePort: 40000,
  destinationPort: port,
});
const fromServer = (destination: string, port: number): Flow => ({
  source: "192.0.2.1",
  destination,
  sourcePort: port,
  destinationPort: 40000,
});

/** A camera's boot as captured from the real cloud: token 111, ac 222. */
function bootCapture(camera = "127.0.0.2", cameraStyle = false): Uint8Array {
  const options = { linkType: LINKTYPE.RAW };
  const records: [number, Flow, Message, number][] = [
    [0, toServer(camera, 9999), message("D2M_Q", { uid: UID, r: 2 }), 1],
    [0.01, fromServer(camera, 9999), M2D_Q_R(111n, 222), 1],
    [0.02, toServer(camera, 58200), message("D2R_R", { uid: UID, token: 111n, r: 2 }), 2],
    [0.03, fromServer(camera, 58200), message("R2D_R_R", { rsp: -4, ac: 222 }), 2],
  ];
  // Cameras write a newline after every element.
  const encode = (msg: Message, tid: number) =>
    cameraStyle && msg.variant.startsWith("D2")
      ? encodeDiscoveryXml(writeMessage(msg).replaceAll(">", ">\n"), tid)
      : encodeDiscovery(msg, tid);
  return concatBytes([
    pcapHeader(options),
    ...records.map(([time, flow, msg, tid]) =>
      pcapRecord(options, 1000 + time, ipPacket(flow, "udp", encode(msg, tid)))
    ),
  ]);
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

async function replay(
  capture: Uint8Array,
  server: { middlemanPort: number; registerPort: number },
  extra: Partial<ReplayOptions> = {},
) {
  const verdicts: Verdict[] = [];
  const report = await replayCapture(streamOf(capture), {
    target: "127.0.0.1",
    middlemanPort: server.middlemanPort,
    registerPort: server.registerPort,
    replyTimeoutMs: 300,
    ...extra,
  }, (verdict) => verdicts.push(verdict));
  return { report, verdicts };
}

Deno.test("replay feeds the target's token into D2R_R and checks ac after D2R_R", async () => {
  const server = await scriptedServer((request) => {
    if (request.variant === "D2M_Q") return M2D_Q_R(9001n, 7);
    if (request.variant === "D2R_R") return message("R2D_R_R", { rsp: -4, ac: 7 });
  });
  try {
    const { report, verdicts } = await replay(bootCapture("127.0.0.2", true), server);
    assert.equal(report.differing, 0, JSON.stringify(verdicts, null, 1));
    assert.equal(report.exchanges, 2);
    const d2rR = server.seen.find((s) => s.message.variant === "D2R_R")!;
    assert.equal((d2rR.message as { fields: { token: bigint } }).fields.token, 9001n);
    assert.deepEqual(verdicts[1].notes, ["token 111 -> 9001"]);
    assert.equal(verdicts[0].role, "middleman");
    assert.equal(verdicts[1].role, "register");
    assert.equal(server.seen[0].from.split(":")[0], "127.0.0.2"); // bound to the captured source
  } finally {
    await server.close();
  }
});

Deno.test("an ac that does not match the target's own M2D_Q_R is a difference", async () => {
  const server = await scriptedServer((request) => {
    if (request.variant === "D2M_Q") return M2D_Q_R(9001n, 7);
    if (request.variant === "D2R_R") return message("R2D_R_R", { rsp: -4, ac: 8 });
  });
  try {
    const { report, verdicts } = await replay(bootCapture(), server);
    assert.equal(report.differing, 1);
    assert.deepEqual(verdicts[1].problems, [
      "R2D_R_R.ac is 8, but the target said 7 where the capture had 222",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("missing answers, other variants and other values are differences", async () => {
  const server = await scriptedServer((request) => {
    if (request.variant === "D2M_Q") {
      const reply = M2D_Q_R(5n, 6);
      return { ...reply, fields: { ...reply.fields, rsp: 1 } };
    }
    return undefined; // D2R_R unanswered
  });
  try {
    const { report, verdicts } = await replay(bootCapture(), server);
    assert.equal(report.differing, 2);
    assert.deepEqual(verdicts[0].problems, ["M2D_Q_R.rsp is 1, captured 0"]);
    assert.match(
      verdicts[1].problems.join(),
      /1 answer\(s\) missing after 300 ms \(expected R2D_R_R\)/,
    );
    assert.deepEqual(verdicts[1].notes, ["token 111 -> 5"]);
  } finally {
    await server.close();
  }
  const other = await scriptedServer((request) =>
    request.variant === "D2M_Q"
      ? message("M2C_Q_R", { reg: { ip: "127.0.0.1", port: 1 } })
      : message("R2D_R_R", { rsp: -4, ac: 222 })
  );
  try {
    const { verdicts } = await replay(bootCapture(), other);
    assert.deepEqual(verdicts[0].problems, ["answer is M2C_Q_R, captured M2D_Q_R"]);
    assert.match(
      verdicts[1].notes.join(),
      /token 111: the target never issued one, sent as captured/,
    );
  } finally {
    await other.close();
  }
});

Deno.test("one socket per captured source, and the captured timing scaled by speed", async () => {
  const options = { linkType: LINKTYPE.RAW };
  const heartbeat = (token: bigint) =>
    encodeDiscovery(message("D2R_HB", { uid: UID, needrsp: 0, token }), 5);
  const capture = concatBytes([
    pcapHeader(options),
    pcapRecord(options, 10, ipPacket(toServer("127.0.0.2", 58200), "udp", heartbeat(1n))),
    pcapRecord(options, 10.8, ipPacket(toServer("127.0.0.3", 58200), "udp", heartbeat(2n))),
  ]);
  const server = await scriptedServer(() => undefined);
  try {
    const timed = await replay(capture, server, { speed: 4, replyTimeoutMs: 100 });
    assert.equal(timed.report.differing, 0);
    assert.equal(server.seen.length, 2);
    assert.deepEqual(server.seen.map((s) => s.from.split(":")[0]), ["127.0.0.2", "127.0.0.3"]);
    const gap = server.seen[1].at - server.seen[0].at;
    assert.ok(gap >= 150 && gap < 600, `gap ${gap} ms for 800 ms captured at speed 4`);
    server.seen.length = 0;
    await replay(capture, server, { speed: undefined, replyTimeoutMs: 50 });
    const fast = server.seen[1].at - server.seen[0].at;
    assert.ok(fast < 150, `no-timing gap ${fast} ms`); // only the reply wait of the first
  } finally {
    await server.close();
  }
});

Deno.test("a capture over MAX_REPLAY_PACKETS is refused before anything is sent", async () => {
  const options = { linkType: LINKTYPE.RAW };
  const record = pcapRecord(
    options,
    1,
    ipPacket(
      toServer("127.0.0.2", 58200),
      "udp",
      encodeDiscovery(message("D2R_HB", { uid: UID, token: 1n }), 1),
    ),
  );
  const capture = concatBytes([pcapHeader(options), ...Array(MAX_REPLAY_PACKETS + 1).fill(record)]);
  const server = await scriptedServer(() => undefined);
  try {
    await assert.rejects(
      () => replay(capture, server),
      (error) =>
        error instanceof ReplayError && /more than 100000 Discovery packets/.test(error.message),
    );
    assert.equal(server.seen.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("comparison: fields present, addresses by presence, session values by type", () => {
  const session = new SessionValues();
  const reg = { ip: "203.0.113.1", port: 58200 };
  assert.deepEqual(
    compareMessages(
      message("M2C_Q_R", { reg, log: reg }),
      message("M2C_Q_R", { reg: { ip: "127.0.0.1", port: 1 }, relay: reg }),
      session,
    ),
    ["M2C_Q_R.log is missing (captured: present)", "M2C_Q_R.relay is present (captured: absent)"],
  );
  const hb = (time_t: bigint, hb: number) => message("R2D_HB_R", { rsp: 0, time_t, timer: { hb } });
  assert.deepEqual(compareMessages(hb(1700000000n, 20000), hb(1800000000n, 20000), session), []);
  assert.deepEqual(compareMessages(hb(1n, 20000), hb(1n, 10000), session), [
    "R2D_HB_R.timer.hb is 10000, captured 20000",
  ]);
  // sid: the first answer teaches 7 -> 70; a later 7 must read 70 again.
  const dc = (sid: number) => message("R2D_DC_R", { sid, rsp: 0 });
  assert.deepEqual(compareMessages(dc(7), dc(70), session), []);
  assert.equal(session.get("sid", "7"), "70");
  assert.deepEqual(compareMessages(dc(7), dc(71), session), [
    "R2D_DC_R.sid is 71, but the target said 70 where the capture had 7",
  ]);
});
