/**
 * The few libc calls bairelay makes where Deno has no API: a UDP socket's receive buffer
 * (receive_buffer.ts) and the kernel's choice of source address for a peer (source_address.ts).
 * Linux only, through FFI (`--allow-ffi`); the library is opened once, at first use, and shared
 * (opening it costs ~2 MB of resident memory).
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const;

/** The libc functions, as FFI symbols. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_DGRAM = 2;

let libc: Libc | undefined;

/** libc's functions; throws when FFI is not permitted or libc.so.6 cannot be opened. */
export function openLibc(): Libc {
  libc ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return libc;
}
