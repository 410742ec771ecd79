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
export * from "./message.ts";
export * from "./packet.ts";
export * from "./datagram.ts";
export * from "./document_cache.ts";
export { RecentCache } from "./recent_cache.ts";
export * from "./inspect.ts";
