/**
 * DNS over TCP framing (RFC 1035 4.2.2, RFC 7766): each message is preceded by its length in
 * two bytes, big-endian. Shared by the responder's TCP listener and the forwarder's TCP retry.
 */

/** What framing reads from (a TCP connection). */
export interface ByteReader {
  read(buffer: Uint8Array): Promise<number | null>;
}

/** What framing writes to (a TCP connection). */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** Largest message a two-byte length can announce. */
export const MAX_TCP_MESSAGE_BYTES = 65535;

/** The message with its two-byte length in front. */
export function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(message.length + 2);
  new DataView(framed.buffer).setUint16(0, message.length);
  framed.set(message, 2);
  return framed;
}

/** A frame read from a stream: the message, the stream's end, or a length over the limit. */
export type FrameRead =
  | { kind: "message"; bytes: Uint8Array }
  | { kind: "closed" }
  | { kind: "too_large"; length: number };

/**
 * Reads one length-prefixed message of at most `maxBytes` from `conn`. A stream that ends
 * before a length is "closed"; one that ends inside a message rejects (UnexpectedEof).
 * A length over `maxBytes` is reported without reading the message.
 */
export async function readFrame(conn: ByteReader, maxBytes: number): Promise<FrameRead> {
  const prefix = new Uint8Array(2);
  const got = await readFull(conn, prefix, true);
  if (!got) return { kind: "closed" };
  const length = new DataView(prefix.buffer).getUint16(0);
  if (length > maxBytes) return { kind: "too_large", length };
  const bytes = new Uint8Array(length);
  await readFull(conn, bytes, false);
  return { kind: "message", bytes };
}

/** Fills `buffer`; false when the stream ended before the first byte and `eofOk`. */
async function readFull(conn: ByteReader, buffer: Uint8Array, eofOk: boolean): Promise<boolean> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) {
      if (filled === 0 && eofOk) return false;
      throw new Deno.errors.UnexpectedEof(`stream ended after ${filled} of ${buffer.length} bytes`);
    }
    filled += n;
  }
  return true;
}

/** Writes all of `bytes`. */
export async function writeAll(conn: ByteWriter, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
