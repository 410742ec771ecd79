/**
 * What replay sends and expects: a capture's Discovery packets, grouped into exchanges (a
 * camera's or client's request with the server's same-tid answers) and unsolicited packets.
 */

import type { Message } from "../bcudp/mod.ts";
import { type ByteInput, ByteSource } from "./byte_source.ts";
import { readCapture } from "./capture.ts";
import { DatagramDecoder, startsWithMagic } from "./datagram_decoder.ts";
import { dissectFrame } from "./dissect.ts";
import { BCUDP_PORTS } from "./timeline.ts";

/** Discovery packets a replay holds in memory (replay is for small captures). */
export const MAX_REPLAY_PACKETS = 100000;

/** The wake server's listener a request goes to. */
export type Role = "middleman" | "register";

/** The capture cannot be replayed as it is (too big). */
export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplayError";
  }
}

/** Requests a camera or client sends to the server, and the listener that takes them. */
export const REQUEST_ROLES: Record<string, Role> = {
  C2M_Q: "middleman",
  D2M_Q: "middleman",
  D2R_R: "register",
  D2R_HB: "register",
  C2R_C: "register",
  D2R_C_R: "register",
  D2R_DISC: "register",
  C2R_CFM: "register",
  C2R_HB: "register",
};
/** What the server sends. */
export const SERVER_VARIANTS = new Set([
  "M2C_Q_R",
  "M2D_Q_R",
  "R2D_R_R",
  "R2D_HB_R",
  "R2C_C_R",
  "R2C_T",
  "R2D_C",
  "R2D_DC_R",
  "R2C_DISC",
]);

/** One captured Discovery packet with where and when it was seen. */
export interface CapturedMessage {
  time: number;
  source: string;
  sourceIp: string;
  destination: string;
  destinationPort: number;
  tid: number;
  message: Message;
  xml: string;
}

/** A captured request, the listener it goes to and the captured answers to it. */
export interface Exchange {
  request: CapturedMessage;
  role: Role;
  replies: CapturedMessage[];
}

/** Reads the Discovery packets of a capture (bounded by MAX_REPLAY_PACKETS). */
export async function collectMessages(
  input: ByteInput,
  ports: number[],
): Promise<CapturedMessage[]> {
  const source = new ByteSource(input);
  const decoder = new DatagramDecoder();
  const bcudpPorts = new Set([...BCUDP_PORTS, ...ports]);
  const messages: CapturedMessage[] = [];
  let first: number | undefined;
  try {
    await readCapture(source, {
      frame(frame) {
        const segment = dissectFrame(frame.linkType, frame.data);
        if (segment === undefined || "problem" in segment || segment.protocol !== "udp") return;
        const time = frame.seconds + frame.nanos / 1e9;
        first ??= time;
        const likely = bcudpPorts.has(segment.destinationPort) ||
          bcudpPorts.has(segment.sourcePort) || startsWithMagic(segment.payload);
        if (!likely || segment.cut) return;
        for (const { packet } of decoder.decode(segment.payload).packets) {
          if (packet.kind !== "discovery") continue;
          if (messages.length >= MAX_REPLAY_PACKETS) {
            throw new ReplayError(
              `the capture holds more than ${MAX_REPLAY_PACKETS} Discovery packets: cut it ` +
                "down (e.g. editcap -r) before replaying",
            );
          }
          messages.push({
            time: time - first,
            source: segment.source,
            sourceIp: segment.sourceIp,
            destination: segment.destination,
            destinationPort: segment.destinationPort,
            tid: packet.tid,
            message: packet.message,
            xml: packet.xml,
          });
        }
      },
      issue() {},
    });
  } finally {
    await source.close();
  }
  return messages;
}

/** Splits captured messages into exchanges (request + same-tid answers) and the rest. */
export function buildExchanges(messages: CapturedMessage[]) {
  const exchanges: Exchange[] = [];
  const unsolicited: CapturedMessage[] = [];
  const lastByPeerTid = new Map<string, Exchange>();
  for (const message of messages) {
    const variant = message.message.variant;
    const role = REQUEST_ROLES[variant];
    if (role !== undefined) {
      const resolved: Role = message.destinationPort === 9999
        ? "middleman"
        : message.destinationPort === 58200
        ? "register"
        : role;
      const exchange = { request: message, role: resolved, replies: [] };
      exchanges.push(exchange);
      lastByPeerTid.set(`${message.source}/${message.tid}`, exchange);
    } else if (SERVER_VARIANTS.has(variant)) {
      const exchange = lastByPeerTid.get(`${message.destination}/${message.tid}`);
      if (exchange) exchange.replies.push(message);
      else unsolicited.push(message);
    }
  }
  return { exchanges, unsolicited };
}
