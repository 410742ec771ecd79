/**
 * The kernel's choice of source address for reaching a peer, the answer `ip route get` gives,
 * without starting a program for each peer and where `ip` is not installed (the container
 * images have none): a UDP socket connected to the peer (a routing-table lookup; connecting a
 * UDP socket sends nothing) reports its local address. Linux, through libc (libc.ts,
 * `--allow-ffi`).
 */

import { AF_INET, AF_INET6, openLibc, SOCK_DGRAM } from "./libc.ts";
import { ipVersion, plainIp } from "./ip.ts";

/** The port put in the socket address: any will do, nothing is sent (discard). */
const PROBE_PORT = 9;
/** sizeof(struct sockaddr_in6), the larger of the two. */
const SOCKADDR_BYTES = 28;

/** The 16 bytes of an IPv6 address, or undefined when `text` is not one (zones included). */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (ipVersion(text) !== 6) return undefined;
  // The URL parser writes an embedded dotted quad as two hex groups: only hex groups remain.
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head, tail] = host.includes("::") ? host.split("::") : [host, undefined];
  const groups = (part: string | undefined) => part ? part.split(":") : [];
  const known = [...groups(head), ...groups(tail)];
  const all = tail === undefined
    ? known
    : [...groups(head), ...Array(8 - known.length).fill("0"), ...groups(tail)];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

/** `bytes` (16) as an IPv6 address text, compressed as the URL parser writes it. */
function ipv6Text(bytes: Uint8Array): string {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/** The socket address of `peerIp` on the probe port, or undefined when it is no IP address. */
function socketAddress(peerIp: string): { family: number; address: Uint8Array } | undefined {
  const address = new Uint8Array(SOCKADDR_BYTES);
  address[2] = PROBE_PORT >> 8;
  address[3] = PROBE_PORT & 0xff;
  if (ipVersion(peerIp) === 4) {
    address[0] = AF_INET; // sa_family is little-endian on every platform Deno runs Linux on
    address.set(peerIp.split(".").map(Number), 4);
    return { family: AF_INET, address };
  }
  const bytes = ipv6Bytes(peerIp);
  if (bytes === undefined) return undefined;
  address[0] = AF_INET6;
  address.set(bytes, 8); // after sin6_family, sin6_port, sin6_flowinfo
  return { family: AF_INET6, address };
}

/**
 * The source address the kernel would use for `peerIp` (an IPv4-mapped one as IPv4); null when
 * it has no route to it; undefined when it cannot be asked this way (not Linux, no
 * `--allow-ffi`, not an IP address, an IPv6 link-local peer, which needs its interface).
 */
export function kernelSourceAddress(peerIp: string): string | null | undefined {
  if (Deno.build.os !== "linux" || /^fe[89ab]/i.test(peerIp)) return undefined;
  const peer = socketAddress(plainIp(peerIp));
  if (peer === undefined) return undefined;
  let libc;
  try {
    libc = openLibc();
  } catch {
    return undefined;
  }
  const fd = libc.socket(peer.family, SOCK_DGRAM, 0);
  if (fd < 0) return undefined;
  try {
    const length = peer.family === AF_INET ? 16 : SOCKADDR_BYTES;
    if (libc.connect(fd, peer.address, length) !== 0) return null;
    const local = new Uint8Array(SOCKADDR_BYTES);
    const size = new Uint32Array([local.length]);
    if (libc.getsockname(fd, local, new Uint8Array(size.buffer)) !== 0) return undefined;
    return peer.family === AF_INET ? local.slice(4, 8).join(".") : ipv6Text(local.slice(8, 24));
  } finally {
    libc.close(fd);
  }
}
