/**
 * Replays the camera and client side of a capture against a wake server and checks each
 * answer against the captured one: one socket per captured source, requests sent in capture
 * order (at the captured pace, scaled, or each after the previous one's answers), each
 * re-framed with its captured tid after its session values are rewritten.
 */

import type { Buffer } from "node:buffer";
import dgram from "node:dgram";
import { decodeDatagram, encodeDiscoveryXml, type Packet } from "../bcudp/mod.ts";
import { isLoopback } from "../net/ip.ts";
import type { ByteInput } from "./byte_source.ts";
import { SessionValues } from "./compare.ts";
import { BCUDP_PORTS } from "./timeline.ts";
import { type Collecting, onAnswer, type Peer, unsolicitedVerdict } from "./replay_answers.ts";
import {
  buildExchanges,
  collectMessages,
  type Exchange,
  ReplayError,
  REQUEST_ROLES,
} from "./replay_exchanges.ts";
import type { ReplayReport, Verdict } from "./replay_report.ts";
import { issuedValues, sleep, substitute } from "./replay_session.ts";

/** Where and how to replay. */
export interface ReplayOptions {
  /** Host of the wake server under test. */
  target: string;
  middlemanPort: number;
  registerPort: number;
  /** Timing scale (2 = twice as fast as captured); undefined = ignore captured timing. */
  speed?: number;
  /** How long to wait for each answer. */
  replyTimeoutMs: number;
  /** Local address for every replay socket (default: see `bindAddressFor`). */
  bind?: string;
  /** More UDP ports to treat as BcUdp while reading (besides magic-number detection). */
  ports?: number[];
}

/**
 * Why a capture gives replay nothing to send: no Discovery packet at all (wrong ports, or
 * not a capture of the camera side), or only the server's side of the conversation.
 */
function nothingToReplay(discoveryPackets: number, options: ReplayOptions): string {
  if (discoveryPackets === 0) {
    const ports = [...BCUDP_PORTS, ...(options.ports ?? [])].join(", ");
    return `nothing to replay: the capture holds no BcUdp Discovery packet (looked at UDP ` +
      `ports ${ports} and at payloads starting with a BcUdp magic number; add --port N for ` +
      `another port)`;
  }
  return `nothing to replay: none of the capture's ${discoveryPackets} Discovery packets is ` +
    `a request from a camera or client (${Object.keys(REQUEST_ROLES).join(", ")}); capture ` +
    `where both sides are seen, e.g. on the server or the router`;
}

/** The local address a replay socket for a captured source binds to. */
export function bindAddressFor(sourceIp: string, options: ReplayOptions): string {
  if (options.bind !== undefined) return options.bind;
  if (options.target.includes(":")) return isLoopback(options.target) ? "::1" : "::";
  if (sourceIp.startsWith("127.")) return sourceIp;
  return isLoopback(options.target) ? "127.0.0.1" : "0.0.0.0";
}

async function openPeer(endpoint: string, address: string): Promise<Peer> {
  const socket = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address, port: 0 }, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return { endpoint, socket, open: new Map(), unsolicited: new Map() };
}

function decodeAnswer(bytes: Uint8Array): Packet[] {
  try {
    return decodeDatagram(bytes);
  } catch {
    return [];
  }
}

/**
 * Replays `input` (a capture file or stream) against `options.target`, calling `onVerdict` for each exchange in
 * capture order as it completes, then for each kind of unsolicited packet per peer.
 */
export async function replayCapture(
  input: ByteInput,
  options: ReplayOptions,
  onVerdict: (verdict: Verdict) => void,
): Promise<ReplayReport> {
  const messages = await collectMessages(input, options.ports ?? []);
  const { exchanges, unsolicited } = buildExchanges(messages);
  if (exchanges.length === 0) throw new ReplayError(nothingToReplay(messages.length, options));
  const issued = issuedValues(messages);
  const session = new SessionValues();
  const peers = new Map<string, Peer>();
  const verdicts: Verdict[] = [];
  const report = (verdict: Verdict) => {
    verdicts.push(verdict);
    onVerdict(verdict);
  };
  try {
    for (const exchange of exchanges) {
      const { source, sourceIp } = exchange.request;
      if (peers.has(source)) continue;
      const peer = await openPeer(source, bindAddressFor(sourceIp, options));
      peer.socket.on("message", (bytes: Buffer) => {
        const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
        for (const packet of decodeAnswer(view)) onAnswer(peer, packet, session);
      });
      peers.set(source, peer);
    }
    for (const message of unsolicited) {
      const peer = peers.get(message.destination);
      if (peer === undefined) continue;
      const variant = message.message.variant;
      const group = peer.unsolicited.get(variant) ??
        { captured: [], received: 0, problems: [] };
      group.captured.push(message);
      peer.unsolicited.set(variant, group);
    }
    let printing = Promise.resolve();
    const started = Date.now();
    for (const exchange of exchanges) {
      if (options.speed !== undefined) {
        await sleep(started + exchange.request.time * 1000 / options.speed - Date.now());
      }
      const done = send(exchange, peers.get(exchange.request.source)!, options, issued, session);
      printing = printing.then(() => done).then(report);
      if (options.speed === undefined) await done;
    }
    await printing;
    await sleep(options.replyTimeoutMs);
    for (const peer of peers.values()) {
      for (const [variant, group] of peer.unsolicited) {
        report(unsolicitedVerdict(peer, variant, group));
      }
    }
  } finally {
    await Promise.all(
      [...peers.values()].map((peer) =>
        new Promise<void>((resolve) => peer.socket.close(() => resolve()))
      ),
    );
  }
  const conforming = verdicts.filter((verdict) => verdict.conforms).length;
  return {
    exchanges: verdicts.filter((verdict) => verdict.kind === "exchange").length,
    unsolicited: verdicts.filter((verdict) => verdict.kind === "unsolicited").length,
    conforming,
    differing: verdicts.length - conforming,
    verdicts,
  };
}

async function send(
  exchange: Exchange,
  peer: Peer,
  options: ReplayOptions,
  issued: Set<string>,
  session: SessionValues,
): Promise<Verdict> {
  const { request } = exchange;
  const notes: string[] = [];
  const xml = await substitute(request, issued, session, options.replyTimeoutMs, notes);
  const port = exchange.role === "middleman" ? options.middlemanPort : options.registerPort;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const collecting: Collecting = {
    exchange,
    received: [],
    problems: [],
    notes,
    finish: () => {},
  };
  const finished = new Promise<void>((resolve) => {
    collecting.finish = resolve;
    timer = setTimeout(resolve, options.replyTimeoutMs);
  });
  peer.open.set(request.tid, collecting);
  try {
    const bytes = encodeDiscoveryXml(xml, request.tid);
    await new Promise<void>((resolve, reject) =>
      peer.socket.send(bytes, port, options.target, (error) => error ? reject(error) : resolve())
    ).catch((error) => {
      collecting.problems.push(`send failed: ${error.message}`);
      collecting.finish();
    });
    await finished;
  } finally {
    clearTimeout(timer);
    if (peer.open.get(request.tid) === collecting) peer.open.delete(request.tid);
  }
  const expected = exchange.replies.map((reply) => reply.message.variant);
  const problems = [...collecting.problems];
  if (collecting.received.length < expected.length) {
    problems.push(
      `${expected.length - collecting.received.length} answer(s) missing after ` +
        `${options.replyTimeoutMs} ms (expected ${expected.join(", ")})`,
    );
  }
  return {
    kind: "exchange",
    time: request.time,
    peer: request.source,
    request: request.message.variant,
    tid: request.tid,
    role: exchange.role,
    expected,
    received: collecting.received.map((message) => message.variant),
    conforms: problems.length === 0,
    problems,
    notes,
  };
}
