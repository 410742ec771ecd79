/**
 * The target's answers, as they arrive per replay socket: each is compared with the captured
 * answer it stands for (teaching the session values on the way), and unsolicited packets are
 * counted per kind for their verdict.
 */

import type dgram from "node:dgram";
import type { Message, Packet } from "../bcudp/mod.ts";
import { compareMessages, type SessionValues } from "./compare.ts";
import type { CapturedMessage, Exchange } from "./replay_exchanges.ts";
import type { Verdict } from "./replay_report.ts";

/** One replay socket, standing for one captured source, and what it is collecting. */
export interface Peer {
  endpoint: string;
  socket: dgram.Socket;
  /** Exchanges sent from this peer, still collecting answers, by tid. */
  open: Map<number, Collecting>;
  /** Captured unsolicited packets per variant, and how many the target sent. */
  unsolicited: Map<string, { captured: CapturedMessage[]; received: number; problems: string[] }>;
}

/** An exchange sent and waiting for its answers; `finish` ends the wait early. */
export interface Collecting {
  exchange: Exchange;
  received: Message[];
  problems: string[];
  notes: string[];
  finish: () => void;
}

/**
 * Takes one packet the target sent to `peer`: an answer to an open exchange (same tid) is
 * compared with the captured one; anything else counts as unsolicited, by variant.
 */
export function onAnswer(peer: Peer, packet: Packet, session: SessionValues): void {
  if (packet.kind !== "discovery") return;
  const collecting = peer.open.get(packet.tid);
  if (collecting) {
    const captured = collecting.exchange.replies[collecting.received.length];
    collecting.received.push(packet.message);
    if (captured === undefined) {
      collecting.problems.push(`unexpected extra answer ${packet.message.variant}`);
    } else {
      collecting.problems.push(...compareMessages(captured.message, packet.message, session));
    }
    if (collecting.received.length >= collecting.exchange.replies.length) collecting.finish();
    return;
  }
  const variant = packet.message.variant;
  const group = peer.unsolicited.get(variant);
  if (group === undefined) {
    peer.unsolicited.set(variant, { captured: [], received: 1, problems: [] });
    return;
  }
  const captured = group.captured[group.received];
  group.received++;
  if (captured) group.problems.push(...compareMessages(captured.message, packet.message, session));
}

/** The verdict on one kind of unsolicited packet to `peer`: captured vs received, and how. */
export function unsolicitedVerdict(
  peer: Peer,
  variant: string,
  group: { captured: CapturedMessage[]; received: number; problems: string[] },
): Verdict {
  const problems = [...new Set(group.problems)];
  if (group.captured.length > 0 && group.received === 0) problems.push("the target sent none");
  if (group.captured.length === 0) problems.push("the capture holds none");
  return {
    kind: "unsolicited",
    time: group.captured[0]?.time ?? 0,
    peer: peer.endpoint,
    expected: group.captured.map(() => variant),
    received: Array(group.received).fill(variant),
    conforms: problems.length === 0,
    problems,
    notes: [],
  };
}
