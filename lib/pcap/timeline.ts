/**
 * Turns captured frames into timeline entries: one per BcUdp packet, per push attempt (TCP
 * SYN to the push port), per datagram that fails to decode and per capture problem. Filters
 * (`uid`, `variant`, `port`) choose what is emitted; the summary always sees everything.
 */

import { inspectDatagram, type Packet, reportJson } from "../bcudp/mod.ts";
import type { CaptureIssue, Frame } from "./capture.ts";
import { DatagramDecoder, type DecodedPacket, startsWithMagic } from "./datagram_decoder.ts";
import { dissectFrame, type Segment, TCP_ACK, TCP_SYN } from "./dissect.ts";
import { FifoMap } from "./fifo_map.ts";
import { SummaryBuilder } from "./summary.ts";
import type { BcUdpEntry, EntryPlace, TimelineEntry } from "./timeline_entry.ts";

/** UDP ports whose traffic is BcUdp without looking (middleman and register). */
export const BCUDP_PORTS = [9999, 58200] as const;
/** The TCP port cameras push motion to (pushx.reolink.com:443). */
export const PUSH_PORT = 443;
/** Endpoints remembered for `--uid` attribution (oldest forgotten first). */
export const MAX_ATTRIBUTED_ENDPOINTS = 65536;

/** What to show. */
export interface TimelineOptions {
  /** More UDP ports to treat as BcUdp; when given, only traffic on these ports is shown. */
  ports?: number[];
  /** TCP port whose SYNs are push attempts (default 443). */
  pushPort?: number;
  /** Show only packets of this UID (short or long form) or of endpoints that used it. */
  uid?: string;
  /** Show only these variants (also "data", "ack", "relay", "push", "error"). */
  variants?: string[];
}

/** Builds the timeline of one capture; feed it frames and issues in file order. */
export class Timeline {
  readonly summary = new SummaryBuilder();
  #decoder = new DatagramDecoder();
  #emit: (entry: TimelineEntry) => void;
  #bcudpPorts: Set<number>;
  #portFilter: Set<number> | undefined;
  #pushPort: number;
  #uid: string | undefined;
  #variants: Set<string> | undefined;
  #endpointUids = new FifoMap<string, string>(MAX_ATTRIBUTED_ENDPOINTS);
  #first: { seconds: number; nanos: number } | undefined;

  constructor(options: TimelineOptions, emit: (entry: TimelineEntry) => void) {
    this.#emit = emit;
    const extra = options.ports ?? [];
    this.#bcudpPorts = new Set([...BCUDP_PORTS, ...extra]);
    this.#portFilter = extra.length > 0 ? new Set(extra) : undefined;
    this.#pushPort = options.pushPort ?? PUSH_PORT;
    this.#uid = options.uid?.toUpperCase();
    this.#variants = options.variants?.length
      ? new Set(options.variants.map((v) => v.toUpperCase()))
      : undefined;
  }

  /** Reports a problem the capture reader found. */
  issue(issue: CaptureIssue): void {
    this.summary.issue(issue);
    if (this.#variants === undefined && this.#uid === undefined) {
      this.#emit({ kind: "capture_error", issue });
    }
  }

  /** Processes one frame (its data is not kept). */
  frame(frame: Frame): void {
    this.#first ??= { seconds: frame.seconds, nanos: frame.nanos };
    this.summary.frame();
    const segment = dissectFrame(frame.linkType, frame.data);
    if (segment === undefined) return;
    if ("problem" in segment) {
      const cut = segment.problem === "snap_length_cut" ||
        (segment.problem === "malformed_packet" && frame.originalLength > frame.data.length);
      this.issue({
        reason: cut ? "snap_length_cut" : segment.problem,
        offset: frame.offset,
        frame: frame.index,
        message: `frame ${frame.index} at offset ${frame.offset}: ${segment.message}` +
          (segment.problem === "unknown_link_type"
            ? " (interface " + frame.interfaceId + ")"
            : "") +
          ": skipped",
      });
      return;
    }
    if (segment.protocol === "tcp") this.#tcp(frame, segment);
    else this.#udp(frame, segment);
  }

  /**
   * An entry of `kind` at the frame's place (`decoded` set for a BcUdp packet only). The
   * place members are spelled out rather than spread from a place object: this runs for
   * every packet, and a spread allocates twice as much.
   */
  #entry<K extends "bcudp" | "push_attempt" | "decode_error">(
    kind: K,
    frame: Frame,
    segment: Segment,
    decoded?: DecodedPacket,
  ): EntryPlace & { kind: K; decoded?: DecodedPacket } {
    return {
      kind,
      decoded,
      frame: frame.index,
      offset: frame.offset,
      time: this.#time(frame),
      seconds: frame.seconds,
      nanos: frame.nanos,
      source: segment.source,
      destination: segment.destination,
      vlans: segment.vlans,
    };
  }

  /** Seconds since the first frame. */
  #time(frame: Frame): number {
    const first = this.#first!;
    return (frame.seconds - first.seconds) + (frame.nanos - first.nanos) / 1e9;
  }

  #tcp(frame: Frame, segment: Segment): void {
    if (segment.destinationPort !== this.#pushPort) return;
    if ((segment.tcpFlags & (TCP_SYN | TCP_ACK)) !== TCP_SYN) return;
    const entry: TimelineEntry = this.#entry("push_attempt", frame, segment);
    this.summary.push(segment.sourceIp);
    if (this.#shows("PUSH", undefined, segment)) this.#emit(entry);
  }

  #udp(frame: Frame, segment: Segment): void {
    const { payload } = segment;
    const byPort = this.#bcudpPorts.has(segment.sourcePort) ||
      this.#bcudpPorts.has(segment.destinationPort);
    if (!byPort && !startsWithMagic(payload)) return;
    if (segment.cut) {
      this.issue({
        reason: "snap_length_cut",
        offset: frame.offset,
        frame: frame.index,
        message: `frame ${frame.index} at offset ${frame.offset} (${segment.source} -> ` +
          `${segment.destination}): the capture holds ${payload.length} of its UDP payload ` +
          `bytes (snap length): not decoded`,
      });
      return;
    }
    const result = this.#decoder.decode(payload);
    for (const decoded of result.packets) {
      const entry = this.#entry("bcudp", frame, segment, decoded) as BcUdpEntry;
      const packet = decoded.packet;
      const wanted = this.#uid !== undefined ||
        (packet.kind === "discovery" && packet.message.variant === "R2D_C");
      const uid = this.#attribute(entry, packet, wanted);
      this.summary.packet(entry, uid);
      if (this.#shows(variantOf(decoded.packet), uid, segment)) this.#emit(entry);
    }
    if (result.error) {
      // Rare: inspect the datagram as `decode` does, for the same members and wording.
      const errorOffset = result.errorOffset ?? 0;
      const report = inspectDatagram(payload).find((r) => r.offset === errorOffset && r.error) ??
        { offset: errorOffset, error: result.error };
      const entry: TimelineEntry = {
        ...this.#entry("decode_error", frame, segment),
        error: report.error ?? result.error,
        errorOffset,
        length: payload.length,
        packet: reportJson(payload, report, { offset: errorOffset, length: payload.length }),
      };
      this.summary.decodeError(entry);
      const uid = this.#endpointUids.get(segment.source) ??
        this.#endpointUids.get(segment.destination);
      if (this.#shows("ERROR", uid, segment)) this.#emit(entry);
    }
  }

  /**
   * The UID a packet concerns: its own `uid` field (remembered for its source endpoint), or
   * when `lookup` is set the one its endpoints used (looked up only when needed: it is the
   * costliest step of a timeline without filters).
   */
  #attribute(place: EntryPlace, packet: Packet, lookup: boolean): string | undefined {
    const own = packet.kind === "discovery" && "uid" in packet.message.fields
      ? packet.message.fields.uid
      : undefined;
    if (own !== undefined) {
      if (this.#endpointUids.get(place.source) !== own) this.#endpointUids.set(place.source, own);
      return own;
    }
    if (!lookup) return undefined;
    return this.#endpointUids.get(place.source) ?? this.#endpointUids.get(place.destination);
  }

  #shows(variant: string, uid: string | undefined, segment: Segment): boolean {
    if (this.#variants && !this.#variants.has(variant)) return false;
    if (this.#uid !== undefined) {
      const upper = uid?.toUpperCase();
      if (upper === undefined || !(upper.startsWith(this.#uid) || this.#uid.startsWith(upper))) {
        return false;
      }
    }
    if (
      this.#portFilter && !this.#portFilter.has(segment.sourcePort) &&
      !this.#portFilter.has(segment.destinationPort)
    ) return false;
    return true;
  }
}

/** The variant name of a packet, or its kind in capitals for non-Discovery packets. */
export function variantOf(packet: Packet): string {
  return packet.kind === "discovery" ? packet.message.variant : packet.kind.toUpperCase();
}
