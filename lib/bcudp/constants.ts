/** Wire constants of the BcUdp protocol (docs/protocol.md describes them). */

/** First u32 of a Discovery packet (XOR-encrypted XML body). */
export const MAGIC_DISCOVERY = 0x2a87cf3a;
/** First u32 of a Data packet (a fragment of a Baichuan TCP-style stream). */
export const MAGIC_DATA = 0x2a87cf10;
/** First u32 of an Ack packet. */
export const MAGIC_ACK = 0x2a87cf20;
/** First u32 of a Relay packet (header only; body undocumented). */
export const MAGIC_RELAY = 0x2a87cf31;

/** The UDP port cameras and clients ask first (the cloud's "middleman"). */
export const MIDDLEMAN_PORT = 9999;
/** The UDP port the cloud's register listens on (cameras register and heartbeat there). */
export const REGISTER_PORT = 58200;

/** Header length of Discovery, Data and Relay packets. */
export const HEADER_SIZE = 20;
/** Header length of Ack packets. */
export const ACK_HEADER_SIZE = 28;

/** Largest payload_size accepted or written (the reference's cap). */
export const MAX_PAYLOAD_SIZE = 65535;
/** Longest UID accepted, in bytes of UTF-8. */
export const MAX_UID_LENGTH = 64;
/** Deepest XML nesting accepted (real packets nest three levels). */
export const MAX_XML_DEPTH = 16;

/** The value of the Discovery header's third u32; anything else is rejected. */
export const DISCOVERY_UNKNOWN_FIELD = 1;
/** group_id/packet_id of an "empty" Ack. */
export const ACK_EMPTY_ID = 0xffffffff;
