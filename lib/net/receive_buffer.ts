/**
 * A bigger kernel receive buffer (SO_RCVBUF) for a UDP socket Deno has bound. Deno offers
 * no option for it (`node:dgram` accepts `recvBufferSize` but does not apply it), and the
 * kernel's default (`net.core.rmem_default`, usually 208 KiB: a few hundred datagrams)
 * drops a burst that arrives while the process is not scheduled. Linux only, through libc
 * (libc.ts: FFI, so it needs `--allow-ffi`): Deno does not expose the socket's descriptor, so the
 * process's descriptors are asked in turn for their type and bound port (getsockopt,
 * getsockname) until the UDP socket on that port answers.
 */

import { AF_INET, AF_INET6, type Libc, openLibc, SOCK_DGRAM } from "./libc.ts";

/**
 * What the wake server asks for by default: room for thousands of heartbeats, so a burst that
 * arrives while the process is busy is queued, not dropped. It is a ceiling, not memory
 * taken: the kernel only uses it while datagrams wait.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** The largest buffer asked for; the kernel caps it at twice `net.core.rmem_max` anyway. */
export const MAX_RECEIVE_BUFFER_BYTES = 1 << 30;

const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_RCVBUF = 8;
/** Descriptors tried when looking for the socket (Deno's own are far below this). */
const MAX_DESCRIPTOR = 4096;

/** What became of a request: the size the kernel reports now, or why nothing changed. */
export type ReceiveBufferResult = { granted: number } | { problem: string };

/** An int-valued socket option of `fd`, or undefined when `fd` is not a socket. */
function intOption(c: Libc, fd: number, option: number): number | undefined {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  const ok = c.getsockopt(
    fd,
    SOL_SOCKET,
    option,
    new Uint8Array(value.buffer),
    new Uint8Array(length.buffer),
  ) === 0;
  return ok ? value[0] : undefined;
}

/** The local port an IPv4 or IPv6 socket is bound to, or undefined. */
function boundPort(c: Libc, fd: number): number | undefined {
  const address = new Uint8Array(128); // sockaddr_storage
  const length = new Uint32Array([address.length]);
  if (c.getsockname(fd, address, new Uint8Array(length.buffer)) !== 0) return undefined;
  const family = address[0] | address[1] << 8;
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  return address[2] << 8 | address[3]; // sin_port / sin6_port, network byte order
}

/** This process's descriptor of the UDP socket bound to local `port`. */
function descriptorOf(c: Libc, port: number): number | undefined {
  for (let fd = 0; fd < MAX_DESCRIPTOR; fd++) {
    if (intOption(c, fd, SO_TYPE) === SOCK_DGRAM && boundPort(c, fd) === port) return fd;
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
    const c = openLibc();
    const fd = descriptorOf(c, port);
    if (fd === undefined) return { problem: `no UDP socket of this process is bound to ${port}` };
    const value = new Int32Array([bytes]);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, new Uint8Array(value.buffer), 4) !== 0) {
      return { problem: "setsockopt(SO_RCVBUF) failed" };
    }
    const granted = intOption(c, fd, SO_RCVBUF);
    return granted === undefined ? { problem: "getsockopt(SO_RCVBUF) failed" } : { granted };
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return { problem: `${(error as Error).message} (run with --allow-ffi)` };
    }
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}
