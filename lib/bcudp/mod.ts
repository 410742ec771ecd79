/**
 * The BcUdp codec: framing (Discovery, Data, Ack, Relay), the XOR keystream, the CRC and
 * one declarative schema per XML variant. Import from here rather than from the files.
 */

export * from "./constants.ts";
export {
  BCUDP_ERROR_REASONS,
  BcUdpError,
  type BcUdpErrorDetails,
  type BcUdpErrorReason,
} from "./errors.ts";
export { hex32, toHex } from "./hex.ts";
export { bcudpCrc, bcudpCrcByte, bcudpCrcWord } from "./crc.ts";
export {
  decryptToString,
  encryptString,
  fillKeystream,
  keystream,
  KEYSTREAM_LENGTH,
  xorCrypt,
} from "./xor.ts";
export { parseXml, writeXml, type XmlElement } from "./xml.ts";
export * from "./schema.ts";
export * from "./message_parser.ts";
export * from "./message_writer.ts";
export * from "./message_json.ts";
export * from "./packet.ts";
export {
  bodyCrc,
  type DiscoveryHeader,
  kindOfMagic,
  packetEnd,
  type PacketHeader,
  readDiscoveryHeader,
  readPacketHeader,
  unusualHeaderNote,
  unusualHeaderWord,
} from "./packet_header.ts";
export * from "./packet_decode.ts";
export * from "./packet_encode.ts";
export * from "./datagram.ts";
export * from "./document_cache.ts";
export { RecentCache } from "./recent_cache.ts";
export * from "./inspect.ts";
