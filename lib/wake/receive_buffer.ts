/**
 * A bigger kernel receive buffer (SO_RCVBUF) for a UDP socket Deno has bound. Deno offers
 * no option for it (`node:dgram` accepts `recvBufferSize` but does not apply it), and the
 * kernel's default (`net.core.rmem_default`, usually 208 KiB: a few hundred datagrams)
 * drops a burst that arrives while the process is not scheduled. Linux only: the socket's
 * descriptor is found through /proc (its inode in /proc/net/udp or udp6 among this
 * process's descriptors) and libc's setsockopt is called through FFI, so it needs
 * `--allow-ffi` and read access to /proc.
 */

/**
 * What the wake server asks for by default: room for thousands of heartbeats, so a burst that
 * arrives while the process is busy is queued, not dropped. It is a ceiling, not memory
 * taken: the kernel only uses it while datagrams wait.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** The largest buffer asked for; the kernel caps it at twice `net.core.rmem_max` anyway. */
export const MAX_RECEIVE_BUFFER_BYTES = 1 << 30;

const SOL_SOCKET = 1;
const SO_RCVBUF = 8;

/** What became of a request: the size the kernel reports now, or why nothing changed. */
export type ReceiveBufferResult = { granted: number } | { problem: string };

type Libc = Deno.DynamicLibrary<{
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"]; result: "i32" };
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"]; result: "i32" };
}>;

let libc: Libc | undefined;

function openLibc(): Libc {
  libc ??= Deno.dlopen("libc.so.6", {
    setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  });
  return libc;
}

/** Inodes of the UDP sockets bound to local `port` (any address, IPv4 or IPv6). */
function socketInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue; // no IPv6 table on this system
    }
    for (const line of text.split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      if (local !== undefined && parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port) {
        inodes.add(columns[9]);
      }
    }
  }
  return inodes;
}

/** This process's descriptor of a socket among `inodes`. */
function descriptorOf(inodes: Set<string>): number | undefined {
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
    } catch {
      continue; // closed meanwhile
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match && inodes.has(match[1])) return Number(entry.name);
  }
  return undefined;
}

/**
 * Asks the kernel for a `bytes` receive buffer on this process's UDP socket bound to local
 * `port`. Never throws: a platform, permission or lookup problem comes back as `problem`
 * (the socket keeps the kernel's default). `granted` is what the kernel reports after the
 * call, which is twice what it accepted and at most twice `net.core.rmem_max`.
 */
export function setReceiveBuffer(port: number, bytes: number): ReceiveBufferResult {
  if (Deno.build.os !== "linux") {
    return { problem: `only supported on Linux (this is ${Deno.build.os})` };
  }
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_RECEIVE_BUFFER_BYTES) {
    return { problem: `${bytes} is not a size from 1 to ${MAX_RECEIVE_BUFFER_BYTES} bytes` };
  }
  try {
    const fd = descriptorOf(socketInodes(port));
    if (fd === undefined) return { problem: `no UDP socket of this process is bound to ${port}` };
    const { setsockopt, getsockopt } = openLibc().symbols;
    const value = new Int32Array([bytes]);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, new Uint8Array(value.buffer), 4) !== 0) {
      return { problem: "setsockopt(SO_RCVBUF) failed" };
    }
    const length = new Uint32Array([4]);
    if (
      getsockopt(
        fd,
        SOL_SOCKET,
        SO_RCVBUF,
        new Uint8Array(value.buffer),
        new Uint8Array(length.buffer),
      ) !== 0
    ) {
      return { problem: "getsockopt(SO_RCVBUF) failed" };
    }
    return { granted: value[0] };
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return { problem: `${(error as Error).message} (run with --allow-ffi)` };
    }
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}
