/**
 * Decodes the BcUdp packets of one UDP payload for the timeline, through the codec's decode
 * path with one document cache per capture: captures repeat the same XML over and over
 * (heartbeats and their replies), so a repeated document is parsed once and its JSON members
 * written once, when the cache takes it, and both are reused from then on.
 */

import {
  decodeDatagramEach,
  DocumentCache,
  kindOfMagic,
  type LenientDecode,
  type Packet,
  type PacketDecode,
} from "../bcudp/mod.ts";
import { documentJsonBytes } from "./document_json.ts";

/** One decoded BcUdp packet with what the timeline prints about it. */
export interface DecodedPacket {
  packet: Packet;
  /** Discovery/Relay: whether the header CRC matches the body. */
  crcOk?: boolean;
  /**
   * Discovery: the JSON members that depend only on the document (variant, fields, unknown,
   * xml; see `writeDocumentJson`) as UTF-8, shared between the packets that carry it.
   */
  documentJson?: Uint8Array;
}

/** Every packet of a datagram, and the error that stopped decoding, if any. */
export type DatagramDecode = LenientDecode<DecodedPacket>;

/** Decodes datagrams; keep one per capture so the document cache is shared. */
export class DatagramDecoder {
  #documents = new DocumentCache("bursts");
  #options = { verifyCrc: false, documents: this.#documents };

  /** How many Discovery documents were served from the cache (for tests and benchmarks). */
  get cacheHits(): number {
    return this.#documents.hits;
  }

  /** Decodes every packet packed in `bytes`, stopping at the first that fails. */
  decode(bytes: Uint8Array): DatagramDecode {
    return decodeDatagramEach(bytes, this.#options, this.#decoded);
  }

  #decoded = ({ packet, crcOk, document }: PacketDecode): DecodedPacket => {
    if (document === undefined || !document.cached) return { packet, crcOk };
    document.json ??= documentJsonBytes(document.message, document.xml);
    return { packet, crcOk, documentJson: document.json };
  };
}

/** True when `payload` starts with one of the four BcUdp magic numbers. */
export function startsWithMagic(payload: Uint8Array): boolean {
  if (payload.length < 4) return false;
  const magic = (payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24) >>> 0;
  return kindOfMagic(magic) !== undefined;
}
