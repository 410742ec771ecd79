/**
 * DNS messages through npm `dns-packet` (the codec is the library's; this module only adapts
 * it): decoding a query into the few facts the responder needs, building its own answers,
 * and the two byte-level touches forwarding needs without re-encoding an upstream answer
 * (reading the TC bit through the decoder, and putting the client's id back in place).
 */

// @deno-types="@types/dns-packet"
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";

/** Smallest UDP answer every client accepts (RFC 1035), and the limit without EDNS. */
export const CLASSIC_UDP_BYTES = 512;
/** The UDP size we advertise in our own EDNS answers (the DNS flag day 2020 value). */
export const OUR_EDNS_UDP_BYTES = 1232;
/** Bytes of the fixed DNS header. */
export const HEADER_BYTES = 12;

/** Response codes the responder sends. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NOTIMP: 4, REFUSED: 5 } as const;
/** A response code from `RCODE`. */
export type Rcode = typeof RCODE[keyof typeof RCODE];

/** The parts of a well-formed standard query the responder looks at. */
export interface Query {
  id: number;
  /** The client asked for recursion (copied into our answers). */
  recursionDesired: boolean;
  /** The single question, the name as asked (case kept). */
  question: { name: string; type: string; class: string };
  /** The client's EDNS UDP size, or null without EDNS. */
  ednsUdpBytes: number | null;
}

/** Why a message is not a query we can answer, and the error to reply with (null: none). */
export interface Malformed {
  malformed: string;
  /** The message id, when at least the header was there. */
  id: number | null;
  /** FORMERR or NOTIMP; null for messages that get no reply (no header, or a response). */
  reply: Rcode | null;
}

/** Wraps bytes for dns-packet (Buffer view, no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads a message sent to the responder: a query (QR 0, opcode QUERY, exactly one question)
 * or why not. Never throws.
 */
export function readQuery(bytes: Uint8Array): Query | Malformed {
  if (bytes.length < HEADER_BYTES) {
    return { malformed: "shorter than a header", id: null, reply: null };
  }
  let decoded: dnsPacket.Packet;
  try {
    decoded = dnsPacket.decode(asBuffer(bytes));
  } catch (error) {
    const id = (bytes[0] << 8) | bytes[1];
    const why = error instanceof Error ? error.message : String(error);
    return { malformed: why, id, reply: RCODE.FORMERR };
  }
  const id = decoded.id ?? 0;
  const flags = decoded.flags ?? 0;
  if (decoded.type === "response") return { malformed: "a response, not a query", id, reply: null };
  if (((flags >> 11) & 0xf) !== 0) {
    return { malformed: "not a standard query (opcode)", id, reply: RCODE.NOTIMP };
  }
  const questions = decoded.questions ?? [];
  if (questions.length !== 1) {
    const why = `${questions.length} questions (exactly one expected)`;
    return { malformed: why, id, reply: RCODE.FORMERR };
  }
  const opt = (decoded.additionals ?? []).find((record) => record.type === "OPT") as
    | dnsPacket.OptAnswer
    | undefined;
  return {
    id,
    recursionDesired: (flags & dnsPacket.RECURSION_DESIRED) !== 0,
    question: { ...questions[0], class: questions[0].class ?? "IN" },
    ednsUdpBytes: opt ? Math.max(CLASSIC_UDP_BYTES, opt.udpPayloadSize ?? 0) : null,
  };
}

function responseFlags(query: Query, rcode: Rcode, authoritative: boolean): number {
  return (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
    (query.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0) |
    dnsPacket.RECURSION_AVAILABLE | rcode;
}

/** EDNS in an answer when the query had it (RFC 6891). */
function ednsFor(query: Query): dnsPacket.Answer[] {
  return query.ednsUdpBytes === null
    ? []
    : [{ type: "OPT", name: ".", udpPayloadSize: OUR_EDNS_UDP_BYTES } as dnsPacket.Answer];
}

/** Our authoritative answer: an A record for the question's name, or none (NODATA). */
export function answerMessage(query: Query, address: string | null, ttl: number): Uint8Array {
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags: responseFlags(query, RCODE.NOERROR, true),
    questions: [query.question as dnsPacket.Question],
    answers: address === null
      ? []
      : [{ type: "A", name: query.question.name, ttl, class: "IN", data: address }],
    additionals: ednsFor(query),
  });
}

/** A bare error answer (REFUSED, SERVFAIL...) carrying the question. */
export function errorMessage(query: Query, rcode: Rcode): Uint8Array {
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags: responseFlags(query, rcode, false),
    questions: [query.question as dnsPacket.Question],
    additionals: ednsFor(query),
  });
}

/** A header-only error answer, for a message too broken to echo its question. */
export function headerOnlyMessage(id: number, rcode: Rcode): Uint8Array {
  return dnsPacket.encode({ type: "response", id, flags: dnsPacket.RECURSION_AVAILABLE | rcode });
}

/** What an upstream's answer says about itself, after checking it answers our query. */
export interface UpstreamAnswer {
  truncated: boolean;
}

/**
 * Checks that `bytes` is a response to the query with `id` and `question` (so a stray or forged
 * datagram is not passed on); null when it is not.
 */
export function readUpstreamAnswer(
  bytes: Uint8Array,
  id: number,
  question: Query["question"],
): UpstreamAnswer | null {
  let decoded: dnsPacket.Packet;
  try {
    decoded = dnsPacket.decode(asBuffer(bytes));
  } catch {
    return null;
  }
  if (decoded.type !== "response" || decoded.id !== id) return null;
  const asked = decoded.questions?.[0];
  if (
    decoded.questions?.length !== 1 || asked === undefined ||
    asked.name.toLowerCase() !== question.name.toLowerCase() || asked.type !== question.type
  ) {
    return null;
  }
  return { truncated: ((decoded.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0 };
}

/** A copy of `bytes` with the message id replaced (the rest byte for byte as it was). */
export function withId(bytes: Uint8Array, id: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(0, id);
  return copy;
}
