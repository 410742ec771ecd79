/**
 * Facts about this box that decide whether `serve` can run well here: who we are and which
 * capabilities we hold (port 443), the kernel's receive-buffer cap (`net.core.rmem_max`) and
 * the unprivileged port floor, and which UDP/TCP ports other programs already hold. All read
 * from /proc through a reader passed in, parsed into plain data.
 */

/** Reads a text file; null when it cannot be read (absent, not permitted, not Linux). */
export type ReadText = (path: string) => Promise<string | null>;

/** CAP_NET_BIND_SERVICE's bit in the capability sets (linux/capability.h). */
export const CAP_NET_BIND_SERVICE_BIT = 10;

/** Where each fact comes from (`status` for this process: /proc/PID/status). */
export const BOX_FILES = {
  status: (pid: number) => `/proc/${pid}/status`,
  unprivilegedPortStart: "/proc/sys/net/ipv4/ip_unprivileged_port_start",
  rmemMax: "/proc/sys/net/core/rmem_max",
  udp: "/proc/net/udp",
  udp6: "/proc/net/udp6",
  tcp: "/proc/net/tcp",
  tcp6: "/proc/net/tcp6",
} as const;

/** A socket some program holds: a bound UDP socket or a listening TCP one. */
export interface HeldSocket {
  protocol: "udp" | "tcp";
  /** "0.0.0.0:9999", "[::]:443". */
  address: string;
  port: number;
  /** The owner's user id. */
  uid: number;
}

/** What `readBoxFacts` found; null where a file could not be read. */
export interface BoxFacts {
  /** Effective user id of this process. */
  uid: number | null;
  /** CAP_NET_BIND_SERVICE in this process's effective set. */
  netBindService: boolean | null;
  /** CAP_NET_BIND_SERVICE in the ambient set (passed on to `serve` started from here). */
  ambientNetBindService: boolean | null;
  /** The lowest port any user may bind (`net.ipv4.ip_unprivileged_port_start`). */
  unprivilegedPortStart: number | null;
  /** `net.core.rmem_max`: the largest receive buffer a program may ask for, bytes. */
  rmemMax: number | null;
  /** Bound UDP and listening TCP sockets (IPv4 and IPv6); null when /proc/net is unreadable. */
  sockets: HeldSocket[] | null;
}

/** Nothing known (every file unreadable, or the time limit passed). */
export const UNKNOWN_BOX: Readonly<BoxFacts> = {
  uid: null,
  netBindService: null,
  ambientNetBindService: null,
  unprivilegedPortStart: null,
  rmemMax: null,
  sockets: null,
};

/**
 * Reads a file with Deno, or, when Deno refuses (it demands --allow-all for /proc, which the
 * `serve` task and the compiled binary do not grant), with `cat` as a child process (needs
 * --allow-run). Null on any failure.
 */
export const readTextFile: ReadText = async (path) => {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return null;
  }
  try {
    const output = await new Deno.Command("cat", {
      args: [path],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? new TextDecoder().decode(output.stdout) : null;
  } catch {
    return null;
  }
};

/**
 * Gathers the box facts through `read` (every file at once); `pid` names this process (its
 * own status file, not that of a `cat` reading it for us).
 */
export async function readBoxFacts(
  read: ReadText = readTextFile,
  pid = Deno.pid,
): Promise<BoxFacts> {
  const [status, portStart, rmemMax, udp, udp6, tcp, tcp6] = await Promise.all([
    read(BOX_FILES.status(pid)),
    read(BOX_FILES.unprivilegedPortStart),
    read(BOX_FILES.rmemMax),
    read(BOX_FILES.udp),
    read(BOX_FILES.udp6),
    read(BOX_FILES.tcp),
    read(BOX_FILES.tcp6),
  ]);
  const tables = [udp, udp6, tcp, tcp6];
  return {
    uid: status === null ? null : effectiveUid(status),
    netBindService: status === null ? null : hasCapability(status, "CapEff"),
    ambientNetBindService: status === null ? null : hasCapability(status, "CapAmb"),
    unprivilegedPortStart: integer(portStart),
    rmemMax: integer(rmemMax),
    sockets: tables.every((table) => table === null) ? null : [
      ...parseProcNet(udp ?? "", "udp"),
      ...parseProcNet(udp6 ?? "", "udp"),
      ...parseProcNet(tcp ?? "", "tcp"),
      ...parseProcNet(tcp6 ?? "", "tcp"),
    ],
  };
}

function integer(text: string | null): number | null {
  if (text === null || !/^\s*\d+\s*$/.test(text)) return null;
  return Number(text.trim());
}

/** The effective uid from /proc/self/status ("Uid: real effective saved fs"). */
export function effectiveUid(status: string): number | null {
  const match = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return match ? Number(match[1]) : null;
}

/** Whether the hex capability set `field` (CapEff, CapAmb, ...) holds CAP_NET_BIND_SERVICE. */
export function hasCapability(status: string, field: string): boolean | null {
  const match = new RegExp(`^${field}:\\s+([0-9a-fA-F]+)`, "m").exec(status);
  if (!match) return null;
  return ((BigInt(`0x${match[1]}`) >> BigInt(CAP_NET_BIND_SERVICE_BIT)) & 1n) === 1n;
}

/** TCP state LISTEN in /proc/net/tcp. */
const TCP_LISTEN = "0A";

/**
 * The sockets of a /proc/net/{udp,udp6,tcp,tcp6} table: every UDP socket with a local port,
 * and TCP sockets in LISTEN. Addresses are kernel-order hex, turned into text here.
 */
export function parseProcNet(text: string, protocol: "udp" | "tcp"): HeldSocket[] {
  const sockets: HeldSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [, local, , state, , , , uid] = fields;
    if (protocol === "tcp" && state !== TCP_LISTEN) continue;
    const [hexIp, hexPort] = local.split(":");
    const port = parseInt(hexPort, 16);
    const ip = hexIp.length === 8 ? ipv4FromHex(hexIp) : ipv6FromHex(hexIp);
    if (!Number.isInteger(port) || port === 0 || ip === null) continue;
    sockets.push({
      protocol,
      address: ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`,
      port,
      uid: Number(uid),
    });
  }
  return sockets;
}

/** "0100007F" (little-endian) -> "127.0.0.1". */
function ipv4FromHex(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
  const bytes = hex.match(/../g)!.map((pair) => parseInt(pair, 16)).reverse();
  return bytes.join(".");
}

/** 32 hex digits, four little-endian 32-bit words -> a compressed IPv6 address. */
function ipv6FromHex(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return null;
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const chunk = hex.slice(word * 8, word * 8 + 8).match(/../g)!.map((p) => parseInt(p, 16));
    bytes.push(...chunk.reverse());
  }
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8 | bytes[2 * i + 1]));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join(".")}`;
  }
  return compressIpv6(groups.map((g) => g.toString(16)));
}

/** Writes the longest run of zero groups (two or more) as "::". */
function compressIpv6(groups: string[]): string {
  let best = { start: -1, length: 0 };
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let end = i;
    while (end < groups.length && groups[end] === "0") end++;
    if (end - i > best.length) best = { start: i, length: end - i };
    i = end;
  }
  if (best.length < 2) return groups.join(":");
  const head = groups.slice(0, best.start).join(":");
  const tail = groups.slice(best.start + best.length).join(":");
  return `${head}::${tail}`;
}
