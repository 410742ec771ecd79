/**
 * Replays the camera and client side of a capture against a wake server and checks each
 * answer against the captured one.
 *
 * Session values: the target draws its own token, ac and sid, and later requests echo them
 * (D2R_R and D2R_HB carry the token of M2D_Q_R, D2R_C_R the sid of R2D_C, C2R_CFM/C2R_HB the
 * sid of R2C_C_R). Comparing answers records "captured value -> target's value" per field
 * (SessionValues); before a request is sent, every token/ac/sid in it that the captured
 * server had issued is rewritten to the target's value, waiting (up to the reply timeout)
 * for the answer that teaches it. The XML text is edited in place, so a camera's formatting
 * survives, and re-framed with the captured tid.
 */

import type { Buffer } from "node:buffer";
import dgram from "node:dgram";
import {
  decodeDatagram,
  encodeDiscoveryXml,
  type Message,
  type Packet,
  writeMessage,
} from "../bcudp/mod.ts";
import { type ByteInput, ByteSource } from "./byte_source.ts";
import { readCapture } from "./capture.ts";
import { compareMessages, ECHOED_RANDOM_FIELDS, SessionValues } from "./compare.ts";
import { DatagramDecoder, startsWithMagic } from "./datagram_decoder.ts";
import { dissectFrame } from "./dissect.ts";
import { BCUDP_PORTS } from "./timeline.ts";
import { isLoopback } from "../net/ip.ts";

/** Discovery packets a replay holds in memory (replay is for small captures). */
export const MAX_REPLAY_PACKETS = 100000;
/** How often a request waiting for a session value looks again. */
const SESSION_POLL_MS = 5;

type Role = "middleman" | "register";

/** The capture cannot be replayed as it is (too big). */
export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplayError";
  }
}

/** Requests a camera or client sends to the server, and the listener that takes them. */
const REQUEST_ROLES: Record<string, Role> = {
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
const SERVER_VARIANTS = new Set([
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

/** The outcome of one exchange (a request and its answers) or of unsolicited packets. */
export interface Verdict {
  kind: "exchange" | "unsolicited";
  /** Captured time of the request (seconds since the first frame). */
  time: number;
  /** Captured source of the request (or destination of unsolicited packets). */
  peer: string;
  request?: string;
  tid?: number;
  role?: Role;
  expected: string[];
  received: string[];
  conforms: boolean;
  problems: string[];
  notes: string[];
}

/** What a replay found. */
export interface ReplayReport {
  /** Requests replayed (each with its answers). */
  exchanges: number;
  /** Kinds of unsolicited packets checked per peer (e.g. the R2D_C burst to a camera). */
  unsolicited: number;
  /** Verdicts (exchanges and unsolicited kinds) that conform / differ. */
  conforming: number;
  differing: number;
  verdicts: Verdict[];
}

interface CapturedMessage {
  time: number;
  source: string;
  sourceIp: string;
  destination: string;
  destinationPort: number;
  tid: number;
  message: Message;
  xml: string;
}

interface Exchange {
  request: CapturedMessage;
  role: Role;
  replies: CapturedMessage[];
}

interface Peer {
  endpoint: string;
  socket: dgram.Socket;
  /** Exchanges sent from this peer, still collecting answers, by tid. */
  open: Map<number, Collecting>;
  /** Captured unsolicited packets per variant, and how many the target sent. */
  unsolicited: Map<string, { captured: CapturedMessage[]; received: number; problems: string[] }>;
}

interface Collecting {
  exchange: Exchange;
  received: Message[];
  problems: string[];
  notes: string[];
  finish: () => void;
}

/** Reads the Discovery packets of a capture (bounded by MAX_REPLAY_PACKETS). */
async function collectMessages(
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
function buildExchanges(messages: CapturedMessage[]) {
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

/** Values of token/ac/sid that the captured server issued (requests echoing them need ours). */
function issuedValues(messages: CapturedMessage[]): Set<string> {
  const issued = new Set<string>();
  const visit = (fields: Record<string, unknown>) => {
    for (const [name, value] of Object.entries(fields)) {
      if (ECHOED_RANDOM_FIELDS.has(name)) issued.add(`${name}:${value}`);
    }
  };
  for (const message of messages) {
    if (SERVER_VARIANTS.has(message.message.variant)) {
      visit(message.message.fields as Record<string, unknown>);
    }
  }
  return issued;
}

/** The local address a replay socket for a captured source binds to. */
export function bindAddressFor(sourceIp: string, options: ReplayOptions): string {
  if (options.bind !== undefined) return options.bind;
  if (options.target.includes(":")) return isLoopback(options.target) ? "::1" : "::";
  if (sourceIp.startsWith("127.")) return sourceIp;
  return isLoopback(options.target) ? "127.0.0.1" : "0.0.0.0";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
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

/** Rewrites the echoed session values of a request to the target's ones. */
async function substitute(
  request: CapturedMessage,
  issued: Set<string>,
  session: SessionValues,
  timeoutMs: number,
  notes: string[],
): Promise<string> {
  let xml = request.xml;
  const fields = { ...request.message.fields } as Record<string, unknown>;
  let rewritten = true;
  for (const [name, value] of Object.entries(request.message.fields as Record<string, unknown>)) {
    if (!ECHOED_RANDOM_FIELDS.has(name) || !issued.has(`${name}:${value}`)) continue;
    const captured = String(value);
    const deadline = Date.now() + timeoutMs;
    let ours = session.get(name, captured);
    while (ours === undefined && Date.now() < deadline) {
      await sleep(SESSION_POLL_MS);
      ours = session.get(name, captured);
    }
    if (ours === undefined) {
      notes.push(`${name} ${captured}: the target never issued one, sent as captured`);
      continue;
    }
    if (ours !== captured) {
      const element = new RegExp(`<${name}>\\s*${captured}\\s*</${name}>`);
      const edited = xml.replace(element, `<${name}>${ours}</${name}>`);
      rewritten &&= edited !== xml;
      xml = edited;
      fields[name] = typeof value === "bigint" ? BigInt(ours) : Number(ours);
      notes.push(`${name} ${captured} -> ${ours}`);
    }
  }
  // XML the simple edit cannot handle (e.g. an element written twice) is written afresh.
  if (!rewritten) return writeMessage({ ...request.message, fields } as Message);
  return xml;
}

function onAnswer(peer: Peer, packet: Packet, session: SessionValues): void {
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

function unsolicitedVerdict(
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

/** One human-readable verdict line. */
export function verdictLine(verdict: Verdict): string {
  const status = verdict.conforms ? "ok  " : "DIFF";
  const time = verdict.time.toFixed(3).padStart(9);
  const notes = verdict.notes.length ? ` [${verdict.notes.join("; ")}]` : "";
  const problems = verdict.problems.length ? `: ${verdict.problems.join("; ")}` : "";
  if (verdict.kind === "unsolicited") {
    const variant = verdict.expected[0] ?? verdict.received[0];
    return `${status} ${time}  ${variant} to ${verdict.peer}: captured ${verdict.expected.length}, ` +
      `received ${verdict.received.length}${problems}`;
  }
  const answers = verdict.received.length ? verdict.received.join(", ") : "no answer";
  const wanted = verdict.expected.length ? verdict.expected.join(", ") : "no answer";
  return `${status} ${time}  ${verdict.peer} ${verdict.request} -> ${verdict.role}: ${answers}` +
    `${answers === wanted ? "" : ` (captured: ${wanted})`}${problems}${notes}`;
}
