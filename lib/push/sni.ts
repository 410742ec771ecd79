/**
 * Reads the server name (SNI) out of the first bytes of a TLS connection: the record header,
 * the ClientHello handshake header and the server_name extension (RFC 8446 4.1.2, RFC 6066 3).
 * The push listener records it so an operator can tell camera pushes from other traffic on 443.
 */

/** TLS record content type of a handshake record. */
const CONTENT_TYPE_HANDSHAKE = 22;
/** Handshake message type of a ClientHello. */
const HANDSHAKE_CLIENT_HELLO = 1;
/** Extension type of server_name. */
const EXTENSION_SERVER_NAME = 0;
/** server_name entry type of a DNS host name. */
const NAME_TYPE_HOST_NAME = 0;
/** Length of a TLS record header (type, version, length). */
const RECORD_HEADER_SIZE = 5;
/** Largest TLS record body (2^14 plus the 2,048 bytes of expansion TLS 1.2 allows). */
const MAX_RECORD_BODY = 16384 + 2048;
/** Longest DNS host name (RFC 1035); longer server names are reported as malformed. */
const MAX_HOST_NAME_LENGTH = 253;

/**
 * Most bytes the reader ever needs: one full record. The push listener reads at most this many.
 */
export const MAX_CLIENT_HELLO_BYTES = RECORD_HEADER_SIZE + MAX_RECORD_BODY;

/** What the first bytes of a connection say about its server name. */
export type SniResult =
  /** A complete ClientHello; `sni` is undefined when it carries no server_name. */
  | { kind: "client_hello"; sni?: string }
  /** A prefix of what may be a ClientHello: read more bytes. */
  | { kind: "incomplete" }
  /** Not a TLS ClientHello (or a malformed one); `reason` says where it went wrong. */
  | { kind: "not_tls"; reason: string };

class Malformed extends Error {}

/** A bounds-checked big-endian reader over a byte range. */
class Cursor {
  #offset: number;
  constructor(private readonly bytes: Uint8Array, start: number, private readonly end: number) {
    this.#offset = start;
  }
  #need(count: number, what: string): void {
    if (this.#offset + count > this.end) throw new Malformed(`${what} runs past its container`);
  }
  u8(what: string): number {
    this.#need(1, what);
    return this.bytes[this.#offset++];
  }
  u16(what: string): number {
    this.#need(2, what);
    const value = (this.bytes[this.#offset] << 8) | this.bytes[this.#offset + 1];
    this.#offset += 2;
    return value;
  }
  skip(count: number, what: string): void {
    this.#need(count, what);
    this.#offset += count;
  }
  take(count: number, what: string): Uint8Array {
    this.#need(count, what);
    this.#offset += count;
    return this.bytes.subarray(this.#offset - count, this.#offset);
  }
  /** A sub-cursor over the next `count` bytes, which this cursor then skips. */
  sub(count: number, what: string): Cursor {
    this.#need(count, what);
    const inner = new Cursor(this.bytes, this.#offset, this.#offset + count);
    this.#offset += count;
    return inner;
  }
  get remaining(): number {
    return this.end - this.#offset;
  }
}

/**
 * Looks for a TLS ClientHello at the start of `bytes` and returns its SNI host name. Pure and
 * total: any input gives a result, never an exception. Only the first record is read (a
 * ClientHello split over several records, which cameras do not send, reports `not_tls`).
 */
export function readClientHelloSni(bytes: Uint8Array): SniResult {
  if (bytes.length < RECORD_HEADER_SIZE) {
    if (bytes.length >= 1 && bytes[0] !== CONTENT_TYPE_HANDSHAKE) {
      return { kind: "not_tls", reason: `first byte ${bytes[0]} is not a handshake record` };
    }
    return { kind: "incomplete" };
  }
  if (bytes[0] !== CONTENT_TYPE_HANDSHAKE) {
    return { kind: "not_tls", reason: `first byte ${bytes[0]} is not a handshake record` };
  }
  if (bytes[1] !== 3) {
    return { kind: "not_tls", reason: `record version major ${bytes[1]} is not 3` };
  }
  const recordLength = (bytes[3] << 8) | bytes[4];
  if (recordLength > MAX_RECORD_BODY) {
    return { kind: "not_tls", reason: `record length ${recordLength} exceeds ${MAX_RECORD_BODY}` };
  }
  if (bytes.length < RECORD_HEADER_SIZE + recordLength) return { kind: "incomplete" };
  try {
    return parseClientHello(
      new Cursor(bytes, RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + recordLength),
    );
  } catch (error) {
    if (error instanceof Malformed) return { kind: "not_tls", reason: error.message };
    throw error;
  }
}

function parseClientHello(record: Cursor): SniResult {
  const type = record.u8("handshake type");
  if (type !== HANDSHAKE_CLIENT_HELLO) {
    throw new Malformed(`handshake type ${type} is not ClientHello`);
  }
  const length = (record.u8("handshake length") << 16) | record.u16("handshake length");
  if (length > record.remaining) {
    throw new Malformed(`ClientHello of ${length} bytes does not fit its record`);
  }
  const hello = record.sub(length, "ClientHello");
  hello.skip(2 + 32, "client version and random");
  hello.skip(hello.u8("session id length"), "session id");
  hello.skip(hello.u16("cipher suites length"), "cipher suites");
  hello.skip(hello.u8("compression methods length"), "compression methods");
  if (hello.remaining === 0) return { kind: "client_hello" }; // no extensions at all
  const extensions = hello.sub(hello.u16("extensions length"), "extensions");
  while (extensions.remaining > 0) {
    const extensionType = extensions.u16("extension type");
    const body = extensions.sub(extensions.u16("extension length"), "extension");
    if (extensionType === EXTENSION_SERVER_NAME) {
      return { kind: "client_hello", sni: hostName(body) };
    }
  }
  return { kind: "client_hello" };
}

function hostName(extension: Cursor): string | undefined {
  const list = extension.sub(extension.u16("server name list length"), "server name list");
  while (list.remaining > 0) {
    const nameType = list.u8("server name type");
    const name = list.take(list.u16("server name length"), "server name");
    if (nameType !== NAME_TYPE_HOST_NAME) continue;
    if (name.length > MAX_HOST_NAME_LENGTH) {
      throw new Malformed(`server name of ${name.length} bytes exceeds ${MAX_HOST_NAME_LENGTH}`);
    }
    return printableHostName(name);
  }
  return undefined;
}

/** Host names are ASCII; anything else is shown escaped so logs stay one clean line. */
function printableHostName(bytes: Uint8Array): string {
  let name = "";
  for (const byte of bytes) {
    name += byte >= 0x21 && byte <= 0x7e && byte !== 0x5c
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return name;
}
