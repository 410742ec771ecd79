/**
 * The demo capture (`fixtures/demo/session.pcap`): one camera's whole session with a bairelay
 * server on loopback, written packet by packet with the capture builder. The camera boots
 * (D2M_Q -> M2D_Q_R, D2R_R -> R2D_R_R) and heartbeats every 20 s; at 30 s a client wakes it
 * (C2M_Q -> M2C_Q_R, C2R_C -> R2C_C_R + R2C_T, a burst of ten R2D_C 100 ms apart as serve sends
 * it, the camera's D2R_C_R after the third); at 45 s
 * the camera opens a push connection (TCP SYN to 443) as it does on motion. Every value is
 * fixed, so the bytes are the same each time it is built.
 */

import { encodeDiscovery, type Message, message } from "../../lib/bcudp/mod.ts";
import { concatBytes, LINKTYPE } from "../../lib/pcap/mod.ts";
import { type Flow, ipPacket, linkFrame, pcapHeader, pcapRecord } from "./pcap_builder.ts";

/** The demo camera's UID (long form; clients use the first 16 characters). */
export const DEMO_UID = "95270000DEMOCAMA0123";
const SHORT_UID = DEMO_UID.slice(0, 16);
const SERVER = "127.0.0.1";
const CAMERA = "127.0.0.2";
const CLIENT = "127.0.0.4";
/** When the capture starts: 2025-11-24T16:00:00Z. */
const START = 1_764_000_000;
const TOKEN = 9116018655002734624n;
const AC = 2728748109;
const SID = 4147289643;
const CID = 4242;

const register = { ip: SERVER, port: 58200 };
const camera = { ip: CAMERA, port: 43847 };
const client = { ip: CLIENT, port: 52578 };

/** A UDP flow between `from` and `to`. */
function flow(from: { ip: string; port: number }, to: { ip: string; port: number }): Flow {
  return { source: from.ip, destination: to.ip, sourcePort: from.port, destinationPort: to.port };
}

/** One captured packet: when (seconds after START), where, and what. */
type Sent = [time: number, flow: Flow, what: Message | "push", tid: number];

const middleman = { ip: SERVER, port: 9999 };

function session(): Sent[] {
  const boot = { ip: CAMERA, port: 49766 };
  const sent: Sent[] = [
    [0, flow(boot, middleman), message("D2M_Q", { uid: DEMO_UID, r: 2 }), 0x89b98fbd],
    [
      0.002,
      flow(middleman, boot),
      message("M2D_Q_R", {
        reg: register,
        log: register,
        timer: true,
        retry: true,
        rsp: 0,
        token: TOKEN,
        ac: AC,
      }),
      0x89b98fbd,
    ],
    [
      0.05,
      flow(camera, register),
      message("D2R_R", { uid: DEMO_UID, token: TOKEN, r: 2 }),
      0x3c41e2a7,
    ],
    [0.051, flow(register, camera), message("R2D_R_R", { rsp: -4, ac: AC }), 0x3c41e2a7],
  ];
  for (
    const [at, tid] of [[0.1, 0x5d0e1f20], [20.1, 0x5d0e1f21], [40.1, 0x5d0e1f22], [
      60.1,
      0x5d0e1f23,
    ]]
  ) {
    sent.push(
      [
        at,
        flow(camera, register),
        message("D2R_HB", { uid: DEMO_UID, needrsp: 1, token: TOKEN }),
        tid,
      ],
      [
        at + 0.001,
        flow(register, camera),
        message("R2D_HB_R", {
          rsp: 0,
          time_t: BigInt(START + Math.floor(at)),
          timer: { hb: 20000 },
        }),
        tid,
      ],
    );
  }
  const wakeTid = 0x0e73eb1c;
  const dev = camera;
  sent.push(
    [30, flow(client, middleman), message("C2M_Q", { uid: SHORT_UID, p: "MAC" }), 0x71c0ffee],
    [
      30.001,
      flow(middleman, client),
      message("M2C_Q_R", {
        reg: register,
        relay: register,
        log: register,
        t: register,
      }),
      0x71c0ffee,
    ],
    [
      30.01,
      flow(client, register),
      message("C2R_C", {
        uid: SHORT_UID,
        cli: client,
        relay: register,
        cid: CID,
        debug: 0,
        family: 4,
        p: "MAC",
        r: 3,
      }),
      wakeTid,
    ],
    [
      30.011,
      flow(register, client),
      message("R2C_C_R", {
        dev,
        dmap: dev,
        relay: register,
        nat: "NULL",
        sid: SID,
        rsp: 0,
        ac: 0,
      }),
      wakeTid,
    ],
    [
      30.011,
      flow(register, client),
      message("R2C_T", { dev, dmap: dev, sid: SID, cid: CID }),
      wakeTid,
    ],
  );
  for (let i = 0; i < 10; i++) {
    sent.push([
      30.012 + i / 10,
      flow(register, camera),
      message("R2D_C", {
        cli: client,
        cmap: client,
        relay: register,
        sid: SID,
        cid: CID,
      }),
      wakeTid,
    ]);
  }
  sent.push(
    [30.25, flow(camera, register), message("D2R_C_R", { sid: SID, rsp: 0 }), wakeTid],
    [45, flow({ ip: CAMERA, port: 32824 }, { ip: SERVER, port: 443 }), "push", 0],
  );
  return sent.sort((a, b) => a[0] - b[0]);
}

/** The demo capture's bytes (a pcap file of Ethernet frames). */
export function demoSessionCapture(): Uint8Array {
  const options = { linkType: LINKTYPE.ETHERNET };
  const records = session().map(([time, route, what, tid]) => {
    const ip = what === "push"
      ? ipPacket(route, "tcp")
      : ipPacket(route, "udp", encodeDiscovery(what, tid));
    return pcapRecord(options, START + time, linkFrame(LINKTYPE.ETHERNET, ip));
  });
  return concatBytes([pcapHeader(options), ...records]);
}
