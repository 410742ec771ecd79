/**
 * From a captured frame down to UDP/TCP: link layers (Ethernet with 802.1Q/802.1ad tags,
 * Linux cooked v1/v2, BSD loopback, raw IP), IPv4 (options skipped, fragments reported) and
 * IPv6 (extension headers walked), then the UDP or TCP header.
 */

import { NameCache } from "./name_cache.ts";

/** Link-layer header types (www.tcpdump.org/linktypes.html) this reader understands. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_ALT12: 12,
  RAW_ALT14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
/** Most VLAN tags walked in one frame (802.1ad QinQ uses two). */
const MAX_VLAN_TAGS = 4;
/** Most IPv6 extension headers walked before giving up. */
const MAX_IPV6_EXTENSIONS = 8;
const IP_PROTO_TCP = 6;
const IP_PROTO_UDP = 17;
/** BSD loopback address families meaning IPv6 (Linux, NetBSD/OpenBSD, FreeBSD, macOS). */
const AF_INET6 = new Set([10, 24, 28, 30]);
const AF_INET = 2;
/** TCP flag bits. */
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

/** A UDP datagram or TCP segment found in a frame. */
export interface Segment {
  protocol: "udp" | "tcp";
  ipVersion: 4 | 6;
  sourceIp: string;
  destinationIp: string;
  sourcePort: number;
  destinationPort: number;
  /** `ip:port` of each side (`[v6]:port` for IPv6). */
  source: string;
  destination: string;
  /** The transport payload present in the capture (a view into the frame). */
  payload: Uint8Array;
  /** True when the capture holds less payload than the packet carried (snap length). */
  cut: boolean;
  /** TCP flags (0 for UDP). */
  tcpFlags: number;
  /** VLAN IDs of the 802.1Q/802.1ad tags, outermost first. */
  vlans?: number[];
}

/** A frame that carries IP but could not be taken down to UDP/TCP. */
export interface DissectProblem {
  problem: "unknown_link_type" | "ip_fragment" | "malformed_packet" | "snap_length_cut";
  message: string;
}

/**
 * Takes a frame of `linkType` down to its UDP or TCP segment. Returns undefined for frames
 * that are simply not UDP/TCP over IP (ARP, ICMP, ...), a DissectProblem when it cannot tell.
 */
export function dissectFrame(
  linkType: number,
  data: Uint8Array,
): Segment | DissectProblem | undefined {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return ethernet(data);
    case LINKTYPE.LINUX_SLL:
      return data.length < 16 ? short("Linux cooked header") : byEtherType(u16(data, 14), data, 16);
    case LINKTYPE.LINUX_SLL2:
      return data.length < 20
        ? short("Linux cooked v2 header")
        : byEtherType(u16(data, 0), data, 20);
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (data.length < 4) return short("loopback header");
      const bigEndian = (u16(data, 0) << 16 | u16(data, 2)) >>> 0;
      const littleEndian = (data[3] << 24 | data[2] << 16 | data[1] << 8 | data[0]) >>> 0;
      const family = linkType === LINKTYPE.LOOP || littleEndian > 0xffff ? bigEndian : littleEndian;
      if (family === AF_INET) return ipv4(data, 4);
      if (AF_INET6.has(family)) return ipv6(data, 4);
      return undefined;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_ALT12:
    case LINKTYPE.RAW_ALT14:
      return rawIp(data, 0);
    case LINKTYPE.IPV4:
      return ipv4(data, 0);
    case LINKTYPE.IPV6:
      return ipv6(data, 0);
  }
  return { problem: "unknown_link_type", message: `unknown link type ${linkType}` };
}

function short(what: string): DissectProblem {
  return { problem: "malformed_packet", message: `frame too short for its ${what}` };
}

/** Big-endian u16 at `at`. */
function u16(data: Uint8Array, at: number): number {
  return (data[at] << 8) | data[at + 1];
}

function ethernet(data: Uint8Array): Segment | DissectProblem | undefined {
  if (data.length < 14) return short("Ethernet header");
  let at = 12;
  let type = u16(data, at);
  let vlans: number[] | undefined;
  while (VLAN_TAGS.has(type)) {
    if (data.length < at + 6) return short("VLAN tag");
    vlans ??= [];
    if (vlans.length === MAX_VLAN_TAGS) {
      return { problem: "malformed_packet", message: `more than ${MAX_VLAN_TAGS} VLAN tags` };
    }
    vlans.push(u16(data, at + 2) & 0x0fff);
    at += 4;
    type = u16(data, at);
  }
  const result = byEtherType(type, data, at + 2);
  if (vlans && result && "protocol" in result) result.vlans = vlans;
  return result;
}

function byEtherType(type: number, data: Uint8Array, at: number) {
  if (type === ETHERTYPE_IPV4) return ipv4(data, at);
  if (type === ETHERTYPE_IPV6) return ipv6(data, at);
  return undefined;
}

function rawIp(data: Uint8Array, at: number): Segment | DissectProblem | undefined {
  if (data.length <= at) return short("IP header");
  const version = data[at] >> 4;
  if (version === 4) return ipv4(data, at);
  if (version === 6) return ipv6(data, at);
  return { problem: "malformed_packet", message: `raw IP frame with IP version ${version}` };
}

function ipv4(data: Uint8Array, at: number): Segment | DissectProblem | undefined {
  if (data.length < at + 20) return short("IPv4 header");
  const headerLength = (data[at] & 0x0f) * 4;
  if (data[at] >> 4 !== 4 || headerLength < 20) {
    return { problem: "malformed_packet", message: "bad IPv4 version or header length" };
  }
  if (data.length < at + headerLength) return short("IPv4 options");
  const totalLength = u16(data, at + 2);
  const flagsFragment = u16(data, at + 6);
  const protocol = data[at + 9];
  const sourceKey = u32(data, at + 12);
  const destinationKey = u32(data, at + 16);
  const source = ipv4Name(sourceKey);
  const destination = ipv4Name(destinationKey);
  if ((flagsFragment & 0x3fff) !== 0) {
    return {
      problem: "ip_fragment",
      message: `IPv4 fragment ${source} -> ${destination} (id ${u16(data, at + 4)}, offset ` +
        `${(flagsFragment & 0x1fff) * 8}${flagsFragment & 0x2000 ? ", more follow" : ""}): ` +
        "fragments are not reassembled",
    };
  }
  // A zero total length happens with segmentation offload: trust the capture then.
  const end = totalLength === 0 ? data.length : at + totalLength;
  if (totalLength !== 0 && totalLength < headerLength) {
    return { problem: "malformed_packet", message: `IPv4 total length ${totalLength} too small` };
  }
  return transport(
    protocol,
    source,
    destination,
    data,
    at + headerLength,
    end,
    sourceKey,
    destinationKey,
  );
}

function ipv6(data: Uint8Array, at: number): Segment | DissectProblem | undefined {
  if (data.length < at + 40) return short("IPv6 header");
  if (data[at] >> 4 !== 6) return { problem: "malformed_packet", message: "bad IPv6 version" };
  const payloadLength = u16(data, at + 4);
  let next = data[at + 6];
  const source = ipv6Text(data, at + 8);
  const destination = ipv6Text(data, at + 24);
  const end = payloadLength === 0 ? data.length : at + 40 + payloadLength;
  let offset = at + 40;
  for (let hops = 0; next !== IP_PROTO_UDP && next !== IP_PROTO_TCP; hops++) {
    if (hops === MAX_IPV6_EXTENSIONS) {
      return { problem: "malformed_packet", message: "too many IPv6 extension headers" };
    }
    if (next === 44) {
      if (data.length < offset + 8) return short("IPv6 fragment header");
      const fragment = u16(data, offset + 2);
      if ((fragment & 0xfff9) !== 0) {
        return {
          problem: "ip_fragment",
          message: `IPv6 fragment ${source} -> ${destination} (offset ${fragment & 0xfff8}): ` +
            "fragments are not reassembled",
        };
      }
      next = data[offset];
      offset += 8;
    } else if (next === 0 || next === 43 || next === 60 || next === 51) {
      if (data.length < offset + 2) return short("IPv6 extension header");
      const length = next === 51 ? (data[offset + 1] + 2) * 4 : (data[offset + 1] + 1) * 8;
      next = data[offset];
      offset += length;
    } else {
      return undefined; // ICMPv6, ESP, no next header...: not ours.
    }
  }
  return transport(next, source, destination, data, offset, end, -1, -1);
}

/**
 * `sourceKey`/`destinationKey`: the IPv4 addresses as u32 (for the name cache), -1 for IPv6
 * (two numbers rather than a pair: no array allocated per packet).
 */
function transport(
  protocol: number,
  sourceIp: string,
  destinationIp: string,
  data: Uint8Array,
  at: number,
  ipEnd: number,
  sourceKey: number,
  destinationKey: number,
): Segment | DissectProblem | undefined {
  if (protocol !== IP_PROTO_UDP && protocol !== IP_PROTO_TCP) return undefined;
  const udp = protocol === IP_PROTO_UDP;
  const minimum = udp ? 8 : 20;
  if (data.length < at + minimum) {
    return {
      problem: ipEnd > data.length ? "snap_length_cut" : "malformed_packet",
      message: `${udp ? "UDP" : "TCP"} header of ${sourceIp} -> ${destinationIp} is cut short`,
    };
  }
  let start = at + 8;
  let end = ipEnd;
  let tcpFlags = 0;
  if (udp) {
    const length = u16(data, at + 4);
    if (length >= 8) end = Math.min(ipEnd, at + length);
  } else {
    start = at + (data[at + 12] >> 4) * 4;
    tcpFlags = data[at + 13];
  }
  const available = Math.min(end, data.length);
  const sourcePort = u16(data, at);
  const destinationPort = u16(data, at + 2);
  return {
    protocol: udp ? "udp" : "tcp",
    ipVersion: sourceKey >= 0 ? 4 : 6,
    sourceIp,
    destinationIp,
    sourcePort,
    destinationPort,
    source: sourceKey >= 0
      ? endpointName(sourceKey, sourceIp, sourcePort)
      : endpointText(sourceIp, sourcePort),
    destination: destinationKey >= 0
      ? endpointName(destinationKey, destinationIp, destinationPort)
      : endpointText(destinationIp, destinationPort),
    payload: data.subarray(Math.min(start, available), available),
    cut: end > data.length,
    tcpFlags,
  };
}

/** Slots for IPv4 address names and for endpoint names (a capture has few distinct ones). */
export const NAME_CACHE_SLOTS = 4096;
const ipv4Names = new NameCache(NAME_CACHE_SLOTS);
const endpointNames = new NameCache(NAME_CACHE_SLOTS);

function u32(data: Uint8Array, at: number): number {
  return (data[at] << 24 | data[at + 1] << 16 | data[at + 2] << 8 | data[at + 3]) >>> 0;
}

/** Dotted text of an IPv4 address given as a u32. */
function ipv4Name(address: number): string {
  return ipv4Names.get(address, 0) ?? ipv4Names.set(
    address,
    0,
    `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`,
  );
}

function endpointName(address: number, ip: string, port: number): string {
  return endpointNames.get(address, port) ?? endpointNames.set(address, port, `${ip}:${port}`);
}

/** IPv6 text form with the longest run of zero groups compressed (RFC 5952). */
export function ipv6Text(data: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((data[at + 2 * i] << 8) | data[at + 2 * i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** `ip:port`, with IPv6 addresses in brackets. */
export function endpointText(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
