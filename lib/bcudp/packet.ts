/**
 * BcUdp packets as decoded: the four kinds (Discovery, Data, Ack, Relay), several of which may
 * share one UDP datagram.
 */

import type { Message } from "./schema.ts";

/** A Discovery packet: the XOR-encrypted XML message. */
export interface DiscoveryPacket {
  kind: "discovery";
  tid: number;
  /** The CRC carried in the header (over the encrypted body). */
  crc: number;
  message: Message;
  /** The decrypted XML text as received (on encode: as written). */
  xml: string;
  /** Header byte 8's word when it is not the usual 1 (see `unusualHeaderWord`). */
  headerUnknown?: number;
}

/** A Data packet: one fragment of a Baichuan stream. */
export interface DataPacket {
  kind: "data";
  connectionId: number;
  packetId: number;
  payload: Uint8Array;
}

/** An Ack packet with its per-packet received bitmap. */
export interface AckPacket {
  kind: "ack";
  connectionId: number;
  groupId: number;
  packetId: number;
  latency: number;
  bitmap: Uint8Array;
}

/** A Relay packet: Discovery-shaped header, undocumented body. */
export interface RelayPacket {
  kind: "relay";
  tid: number;
  crc: number;
  body: Uint8Array;
  /** Header byte 8's word when it is not the usual 1 (see `unusualHeaderWord`). */
  headerUnknown?: number;
}

/** Any decoded packet. */
export type Packet = DiscoveryPacket | DataPacket | AckPacket | RelayPacket;
