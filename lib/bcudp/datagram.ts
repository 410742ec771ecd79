/**
 * Decoding a whole datagram: several BcUdp packets may share one, back to back; a failure
 * keeps the packets read before it.
 */

import { BcUdpError } from "./errors.ts";
import type { Packet } from "./packet.ts";
import { type DecodeOptions, decodePacketAt, type PacketDecode } from "./packet_decode.ts";

/**
 * Decodes every packet packed back to back in one datagram. Stops at the first packet that
 * fails and throws its BcUdpError; use `decodeDatagramLenient` to keep the packets read
 * before it. An empty datagram is a truncated header.
 */
export function decodeDatagram(bytes: Uint8Array, options: DecodeOptions = {}): Packet[] {
  const { packets, error } = decodeDatagramLenient(bytes, options);
  if (error) throw error;
  return packets;
}

/** The packets of a datagram (or what a caller made of each), and the error that stopped it. */
export interface LenientDecode<T = Packet> {
  packets: T[];
  error?: BcUdpError;
  /** Byte offset of the packet that failed. */
  errorOffset?: number;
}

const packetOf = (decoded: PacketDecode): Packet => decoded.packet;

/** Like `decodeDatagram`, but returns the packets decoded before a failure with the error. */
export function decodeDatagramLenient(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): LenientDecode {
  return decodeDatagramEach(bytes, options, packetOf);
}

/**
 * Like `decodeDatagramLenient`, keeping `each(decoded)` for every packet rather than the
 * packet alone: for callers that show more of a packet (its CRC verdict, its document).
 */
export function decodeDatagramEach<T>(
  bytes: Uint8Array,
  options: DecodeOptions,
  each: (decoded: PacketDecode) => T,
): LenientDecode<T> {
  let packets: T[] | undefined;
  let offset = 0;
  try {
    do {
      const decoded = decodePacketAt(bytes, offset, options);
      // Most datagrams carry one packet: an array of one costs less than a push onto an
      // empty array (which reserves room for many).
      if (packets) packets.push(each(decoded));
      else packets = [each(decoded)];
      offset = decoded.end;
    } while (offset < bytes.length);
    return { packets };
  } catch (error) {
    if (!(error instanceof BcUdpError)) throw error;
    return { packets: packets ?? [], error, errorOffset: offset };
  }
}
