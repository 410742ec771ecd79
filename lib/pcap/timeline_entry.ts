/** The entries of a timeline: what the timeline emits, the summary counts and the printers write. */

import type { BcUdpError } from "../bcudp/mod.ts";
import type { CaptureIssue } from "./capture.ts";
import type { DecodedPacket } from "./datagram_decoder.ts";

/** Where and when a packet was seen. */
export interface EntryPlace {
  frame: number;
  /** File offset of the frame's record. */
  offset: number;
  /** Seconds since the first frame of the capture. */
  time: number;
  seconds: number;
  nanos: number;
  source: string;
  destination: string;
  vlans?: number[];
}

/** The timeline line of one BcUdp packet. */
export type BcUdpEntry = EntryPlace & { kind: "bcudp"; decoded: DecodedPacket };

/** One timeline line. */
export type TimelineEntry =
  | BcUdpEntry
  | EntryPlace & {
    kind: "decode_error";
    /** Why the packet failed, worded as `decode` words it. */
    error: BcUdpError;
    errorOffset: number;
    length: number;
    /** The JSON members `decode --json` prints for the packet (with offset and length). */
    packet: Record<string, unknown>;
  }
  | EntryPlace & { kind: "push_attempt" }
  | { kind: "capture_error"; issue: CaptureIssue; time?: number };
