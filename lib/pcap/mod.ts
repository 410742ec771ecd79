/**
 * Packet captures: streaming pcap/pcapng reading, link/IP/UDP/TCP dissection, the BcUdp
 * timeline with its summary, and replay of a capture against a wake server.
 */

export * from "./byte_source.ts";
export * from "./byte_writer.ts";
export * from "./capture.ts";
export * from "./fifo_map.ts";
export * from "./name_cache.ts";
export * from "./dissect.ts";
export * from "./datagram_decoder.ts";
export * from "./document_json.ts";
export * from "./timeline_entry.ts";
export * from "./timeline.ts";
export * from "./summary.ts";
export * from "./format.ts";
export * from "./show.ts";
export * from "./compare.ts";
export { MAX_REPLAY_PACKETS, ReplayError } from "./replay_exchanges.ts";
export * from "./replay_report.ts";
export * from "./replay.ts";
