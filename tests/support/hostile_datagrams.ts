/**
 * Hostile datagrams for flood tests and benchmarks: every kind of junk a misbehaving or
 * malicious device on the LAN could send the wake server, from a seeded generator so a run
 * can be repeated. Each kind reaches a different depth of the decoder: random bytes and bad
 * magic stop at the header, bad CRC and truncated packets at the framing, bit-flipped
 * documents and oversized fields at the XML/schema layer, and random-UID heartbeats go all
 * the way to the registry (and its `max_cameras` cap).
 */

import {
  bcudpCrc,
  encodeDiscovery,
  encodeDiscoveryXml,
  HEADER_SIZE,
  message,
} from "../../lib/bcudp/mod.ts";

/** The kinds, in the order a flood cycles through them. */
export const HOSTILE_KINDS = [
  "random_bytes",
  "bad_magic",
  "bad_crc",
  "truncated",
  "bit_flipped",
  "oversized_field",
  "random_uid",
] as const;

/** One kind of hostile datagram. */
export type HostileKind = typeof HOSTILE_KINDS[number];

/** A small seeded PRNG (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** A random 20-character camera UID starting with `9527` (never a real camera's). */
export function randomUid(random: () => number): string {
  let uid = "9527";
  while (uid.length < 20) uid += UID_CHARS[Math.floor(random() * UID_CHARS.length)];
  return uid;
}

function randomTid(random: () => number): number {
  return Math.floor(random() * 0x7fffffff) + 1;
}

/** A valid D2R_HB (needrsp 1) from a random UID with a random token and tid. */
function randomHeartbeat(random: () => number): Uint8Array {
  const token = BigInt(Math.floor(random() * 2 ** 32)) * 65536n +
    BigInt(Math.floor(random() * 65536));
  return encodeDiscovery(
    message("D2R_HB", { uid: randomUid(random), needrsp: 1, token }),
    randomTid(random),
  );
}

/** Recomputes the Discovery header's CRC after the body was changed. */
function fixCrc(packet: Uint8Array): Uint8Array {
  new DataView(packet.buffer, packet.byteOffset).setUint32(
    16,
    bcudpCrc(packet, HEADER_SIZE, packet.length),
    true,
  );
  return packet;
}

/** One hostile datagram of `kind`. */
export function hostileDatagram(kind: HostileKind, random: () => number): Uint8Array {
  switch (kind) {
    case "random_bytes": {
      const bytes = new Uint8Array(1 + Math.floor(random() * 1400));
      for (let i = 0; i < bytes.length; i++) bytes[i] = random() * 256;
      return bytes;
    }
    case "bad_magic": {
      const packet = randomHeartbeat(random);
      packet[Math.floor(random() * 4)] ^= 1 + Math.floor(random() * 255);
      return packet;
    }
    case "bad_crc": {
      const packet = randomHeartbeat(random);
      packet[HEADER_SIZE + Math.floor(random() * (packet.length - HEADER_SIZE))] ^= 0x20;
      return packet;
    }
    case "truncated": {
      const packet = randomHeartbeat(random);
      return packet.slice(0, Math.floor(random() * (packet.length - 1)));
    }
    case "bit_flipped": {
      const packet = randomHeartbeat(random);
      const at = HEADER_SIZE + Math.floor(random() * (packet.length - HEADER_SIZE));
      packet[at] ^= 1 << Math.floor(random() * 8);
      return fixCrc(packet);
    }
    case "oversized_field": {
      const size = 256 + Math.floor(random() * 8000);
      const big = randomUid(random).padEnd(size, "X");
      const which = Math.floor(random() * 3);
      const xml = which === 0
        ? `<P2P>\n<D2R_HB>\n<uid>${big}</uid>\n<needrsp>1</needrsp>\n<token>1</token>\n</D2R_HB>\n</P2P>\n`
        : which === 1
        ? `<P2P>\n<D2R_HB>\n<uid>${randomUid(random)}</uid>\n<token>${
          "9".repeat(size)
        }</token>\n</D2R_HB>\n</P2P>\n`
        : `<P2P>\n<C2R_C>\n<uid>${
          randomUid(random)
        }</uid>\n<cli><ip>${big}</ip><port>1</port></cli>\n</C2R_C>\n</P2P>\n`;
      return encodeDiscoveryXml(xml, randomTid(random));
    }
    case "random_uid":
      return randomHeartbeat(random);
  }
}
