/**
 * Builders for captures: IPv4/IPv6 UDP datagrams and TCP SYNs, the link layers the reader
 * understands, pcap records and pcapng blocks in either byte order. Tests use them to craft
 * edge cases, the benchmark to write big captures and `scripts/make_demo_capture.ts` the
 * demo capture.
 */

import { concatBytes, LINKTYPE } from "../../lib/pcap/mod.ts";

/** A packet's addresses and ports. */
export interface Flow {
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
}

function ipv4Bytes(text: string): Uint8Array {
  return new Uint8Array(text.split(".").map(Number));
}

function ipv6Bytes(text: string): Uint8Array {
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  const out = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    out[2 * i] = value >> 8;
    out[2 * i + 1] = value & 0xff;
  });
  return out;
}

function transportHeader(flow: Flow, protocol: "udp" | "tcp", payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(protocol === "udp" ? 8 : 20);
  const view = new DataView(header.buffer);
  view.setUint16(0, flow.sourcePort);
  view.setUint16(2, flow.destinationPort);
  if (protocol === "udp") view.setUint16(4, 8 + payload.length);
  else {
    header[12] = 5 << 4;
    header[13] = 0x02; // SYN
    view.setUint16(14, 65535);
  }
  return concatBytes([header, payload]);
}

/** Options for an IP packet. */
export interface IpOptions {
  /** IPv4 options bytes (padded to 4 by the caller). */
  ipv4Options?: Uint8Array;
  /** IPv4 flags+fragment offset field (e.g. 0x2000 = more fragments). */
  fragment?: number;
  /** IPv6: extension headers (hop-by-hop) placed before the transport header. */
  ipv6HopByHop?: boolean;
}

/** An IPv4 or IPv6 packet (chosen by the source address) carrying UDP or a TCP SYN. */
export function ipPacket(
  flow: Flow,
  protocol: "udp" | "tcp",
  payload: Uint8Array = new Uint8Array(),
  options: IpOptions = {},
): Uint8Array {
  const segment = transportHeader(flow, protocol, payload);
  const next = protocol === "udp" ? 17 : 6;
  if (flow.source.includes(":")) {
    const extension = options.ipv6HopByHop
      ? new Uint8Array([next, 0, 1, 4, 0, 0, 0, 0])
      : undefined;
    const body = extension ? concatBytes([extension, segment]) : segment;
    const header = new Uint8Array(40);
    const view = new DataView(header.buffer);
    header[0] = 0x60;
    view.setUint16(4, body.length);
    header[6] = extension ? 0 : next;
    header[7] = 64;
    header.set(ipv6Bytes(flow.source), 8);
    header.set(ipv6Bytes(flow.destination), 24);
    return concatBytes([header, body]);
  }
  const ipOptions = options.ipv4Options ?? new Uint8Array();
  const header = new Uint8Array(20 + ipOptions.length);
  const view = new DataView(header.buffer);
  header[0] = 0x40 | (header.length / 4);
  view.setUint16(2, header.length + segment.length);
  view.setUint16(6, options.fragment ?? 0x4000);
  header[8] = 64;
  header[9] = next;
  header.set(ipv4Bytes(flow.source), 12);
  header.set(ipv4Bytes(flow.destination), 16);
  header.set(ipOptions, 20);
  return concatBytes([header, segment]);
}

/** Wraps an IP packet in the link layer `linkType` (Ethernet may carry VLAN tags). */
export function linkFrame(linkType: number, ip: Uint8Array, vlans: number[] = []): Uint8Array {
  const v6 = ip[0] >> 4 === 6;
  const etherType = v6 ? 0x86dd : 0x0800;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      const header = new Uint8Array(14 + 4 * vlans.length);
      const view = new DataView(header.buffer);
      header.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
      vlans.forEach((id, i) => {
        view.setUint16(12 + 4 * i, i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100);
        view.setUint16(14 + 4 * i, id);
      });
      view.setUint16(12 + 4 * vlans.length, etherType);
      return concatBytes([header, ip]);
    }
    case LINKTYPE.LINUX_SLL: {
      const header = new Uint8Array(16);
      const view = new DataView(header.buffer);
      view.setUint16(2, 772);
      view.setUint16(14, etherType);
      return concatBytes([header, ip]);
    }
    case LINKTYPE.LINUX_SLL2: {
      const header = new Uint8Array(20);
      const view = new DataView(header.buffer);
      view.setUint16(0, etherType);
      view.setUint32(4, 1);
      view.setUint16(8, 772);
      return concatBytes([header, ip]);
    }
    case LINKTYPE.NULL: {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, v6 ? 30 : 2, true);
      return concatBytes([header, ip]);
    }
    default:
      return ip;
  }
}

/** Options for a pcap file. */
export interface PcapOptions {
  linkType: number;
  nano?: boolean;
  bigEndian?: boolean;
  snapLength?: number;
}

/** A pcap file header. */
export function pcapHeader(options: PcapOptions): Uint8Array {
  const out = new Uint8Array(24);
  const view = new DataView(out.buffer);
  const le = !options.bigEndian;
  view.setUint32(0, options.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  view.setUint16(4, 2, le);
  view.setUint16(6, 4, le);
  view.setUint32(16, options.snapLength ?? 262144, le);
  view.setUint32(20, options.linkType, le);
  return out;
}

/** A pcap record; `time` in seconds (fractional), `originalLength` defaults to the data's. */
export function pcapRecord(
  options: PcapOptions,
  time: number,
  data: Uint8Array,
  originalLength = data.length,
): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const view = new DataView(out.buffer);
  const le = !options.bigEndian;
  const seconds = Math.floor(time);
  const fraction = Math.round((time - seconds) * (options.nano ? 1e9 : 1e6));
  view.setUint32(0, seconds, le);
  view.setUint32(4, fraction, le);
  view.setUint32(8, data.length, le);
  view.setUint32(12, originalLength, le);
  out.set(data, 16);
  return out;
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, le);
  view.setUint32(4, out.length, le);
  out.set(body, 8);
  view.setUint32(out.length - 4, out.length, le);
  return out;
}

/** A pcapng section header block. */
export function pcapngSection(bigEndian = false): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setUint32(0, 0x1a2b3c4d, !bigEndian);
  view.setUint16(4, 1, !bigEndian);
  view.setBigInt64(8, -1n, !bigEndian);
  return block(0x0a0d0d0a, body, !bigEndian);
}

/** A pcapng interface description block; `tsresol` is the raw if_tsresol byte (6 = µs). */
export function pcapngInterface(linkType: number, tsresol = 6, bigEndian = false): Uint8Array {
  const body = new Uint8Array(20);
  const view = new DataView(body.buffer);
  const le = !bigEndian;
  view.setUint16(0, linkType, le);
  view.setUint32(4, 262144, le);
  view.setUint16(8, 9, le); // if_tsresol
  view.setUint16(10, 1, le);
  body[12] = tsresol;
  // bytes 16..19: opt_endofopt
  return block(1, body, le);
}

/** A pcapng enhanced packet block; `units` is the timestamp in the interface's resolution. */
export function pcapngPacket(
  interfaceId: number,
  units: bigint,
  data: Uint8Array,
  bigEndian = false,
  originalLength = data.length,
): Uint8Array {
  const le = !bigEndian;
  const body = new Uint8Array(20 + data.length);
  const view = new DataView(body.buffer);
  view.setUint32(0, interfaceId, le);
  view.setUint32(4, Number(units >> 32n), le);
  view.setUint32(8, Number(units & 0xffffffffn), le);
  view.setUint32(12, data.length, le);
  view.setUint32(16, originalLength, le);
  body.set(data, 20);
  return block(6, body, le);
}

/** A pcapng simple packet block (no timestamp, interface 0). */
export function pcapngSimplePacket(data: Uint8Array, bigEndian = false): Uint8Array {
  const body = new Uint8Array(4 + data.length);
  new DataView(body.buffer).setUint32(0, data.length, !bigEndian);
  body.set(data, 4);
  return block(3, body, !bigEndian);
}

/** Any other pcapng block (for "unknown blocks are skipped"). */
export function pcapngBlock(type: number, body: Uint8Array, bigEndian = false): Uint8Array {
  return block(type, body, !bigEndian);
}
