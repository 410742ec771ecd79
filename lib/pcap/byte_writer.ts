/**
 * An output buffer that text is written into as bytes (ASCII by hand, anything else through
 * TextEncoder) and handed on in large chunks. The timeline writes a million lines through
 * it without building a string per line, which keeps the garbage collector (and so the
 * resident memory) small.
 */

/** Bytes gathered before they are handed to the sink. */
export const WRITER_CHUNK_BYTES = 1 << 18;

/** Pieces up to this many bytes are copied byte by byte rather than with `set`. */
const SHORT_BYTES = 32;

const encoder = new TextEncoder();

/** Appends text, numbers and bytes; calls `sink` whenever the buffer fills and on `flush`. */
export class ByteWriter {
  #buffer: Uint8Array;
  #length = 0;
  #sink: (bytes: Uint8Array) => void;

  constructor(sink: (bytes: Uint8Array) => void, size = WRITER_CHUNK_BYTES) {
    this.#sink = sink;
    this.#buffer = new Uint8Array(size);
  }

  /** Makes room for `count` more bytes (flushing, or growing for one oversized piece). */
  #room(count: number): void {
    if (this.#length + count <= this.#buffer.length) return;
    this.flush();
    if (count > this.#buffer.length) this.#buffer = new Uint8Array(count);
  }

  /** Writes a string as UTF-8 (ASCII byte by byte, the rest through TextEncoder). */
  text(value: string): void {
    const length = value.length;
    this.#room(length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0x7f) {
        this.#length = at;
        this.#encoded(value.slice(i));
        return;
      }
      buffer[at++] = code;
    }
    this.#length = at;
  }

  #encoded(value: string): void {
    this.#room(value.length * 3);
    this.#length += encoder.encodeInto(value, this.#buffer.subarray(this.#length)).written;
  }

  /**
   * Writes `value` as `JSON.stringify(value)` would, without building that string: printable
   * ASCII byte by byte with `"` and `\\` escaped, anything else through JSON.stringify.
   */
  jsonString(value: string): void {
    const length = value.length;
    this.#room(2 * length + 2);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer[at++] = 0x22;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e) {
        this.#length = at;
        this.text(JSON.stringify(value.slice(i)).slice(1));
        return;
      }
      if (code === 0x22 || code === 0x5c) buffer[at++] = 0x5c;
      buffer[at++] = code;
    }
    buffer[at++] = 0x22;
    this.#length = at;
  }

  /** Writes bytes as they are. */
  bytes(value: Uint8Array): void {
    const length = value.length;
    this.#room(length);
    if (length > SHORT_BYTES) this.#buffer.set(value, this.#length);
    else {
      // A loop beats TypedArray.set's per-call cost for the short pieces of every line.
      const buffer = this.#buffer;
      const at = this.#length;
      for (let i = 0; i < length; i++) buffer[at + i] = value[i];
    }
    this.#length += length;
  }

  /** Writes an integer in decimal. */
  int(value: number): void {
    if (value < 0) {
      this.text("-");
      value = -value;
    }
    let digits = 1;
    for (let limit = 10; value >= limit; limit *= 10) digits++;
    this.padded(value, digits);
  }

  /** Writes `value` in decimal, left-padded with zeros to `width` digits. */
  padded(value: number, width: number): void {
    this.#room(width);
    const buffer = this.#buffer;
    const start = this.#length;
    let at = start + width;
    // Nine digits at a time, so that the digit loop runs on small integers: u32 fields
    // (tid, crc) and file offsets are doubles to V8, and dividing doubles is slow.
    while (at > start) {
      const high = value >= 1e9 ? Math.floor(value / 1e9) : 0;
      let low = value - high * 1e9;
      const stop = Math.max(start, at - 9);
      while (at > stop) {
        const next = (low / 10) | 0;
        buffer[--at] = 48 + low - next * 10;
        low = next;
      }
      value = high;
    }
    this.#length = start + width;
  }

  /** Hands everything written so far to the sink. */
  flush(): void {
    if (this.#length === 0) return;
    this.#sink(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
  }
}

/** A throwaway writer's first buffer: the size of most things written through one. */
const THROWAWAY_WRITER_BYTES = 1024;

/** Runs `write` on a throwaway writer and returns what it wrote, as bytes of their own. */
export function writtenBytes(write: (writer: ByteWriter) => void): Uint8Array {
  const chunks: Uint8Array[] = [];
  const writer = new ByteWriter((bytes) => chunks.push(bytes.slice()), THROWAWAY_WRITER_BYTES);
  write(writer);
  writer.flush();
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks);
}

/** The bytes of `parts`, one after the other, in one new array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const decoder = new TextDecoder();

/** Runs `write` on a throwaway writer and returns what it wrote as a string. */
export function writtenText(write: (writer: ByteWriter) => void): string {
  return decoder.decode(writtenBytes(write));
}
