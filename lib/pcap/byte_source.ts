/**
 * A bounded read buffer over a byte stream: the capture readers pull records through it so
 * memory stays flat whatever the file size (nothing ever holds the whole file).
 */

/** Initial buffer size; it grows only to hold one record larger than this. */
export const INITIAL_BUFFER_BYTES = 1 << 20;

/** Anything that reads into a caller's buffer, like `Deno.FsFile` (no copy in between). */
export interface ByteReader {
  read(into: Uint8Array): Promise<number | null>;
  close?(): void;
}

/** What a ByteSource reads: a stream of chunks (stdin, fetch) or a file read in place. */
export type ByteInput = ReadableStream<Uint8Array> | ByteReader;

/** Reads a stream or a file through one reusable buffer. */
export class ByteSource {
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #file: ByteReader | undefined;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  /** File offset of `#buffer[#start]`. */
  #base = 0;
  #pending: Uint8Array | undefined;
  #eof = false;

  constructor(input: ByteInput, initialBytes = INITIAL_BUFFER_BYTES) {
    if (input instanceof ReadableStream) this.#reader = input.getReader();
    else this.#file = input;
    this.#buffer = new Uint8Array(initialBytes);
  }

  /** Offset in the stream of the next unread byte. */
  get offset(): number {
    return this.#base;
  }

  /** Bytes buffered and not yet consumed. */
  get available(): number {
    return this.#end - this.#start;
  }

  /** The whole internal buffer; valid between `ensure` calls (see `position`). */
  get bytes(): Uint8Array {
    return this.#buffer;
  }

  /** Index in `bytes` of the next unread byte. */
  get position(): number {
    return this.#start;
  }

  /**
   * Makes at least `count` bytes available at `position`; false when the stream ends first
   * (then `available` tells how many there are). May move the data: re-read `bytes`.
   */
  async ensure(count: number): Promise<boolean> {
    while (this.#end - this.#start < count) {
      if (!(await this.#fill(count))) return false;
    }
    return true;
  }

  /** Consumes `count` buffered bytes (at most `available`). */
  advance(count: number): void {
    const step = Math.min(count, this.#end - this.#start);
    this.#start += step;
    this.#base += step;
  }

  /** Skips `count` bytes, buffered or not, without holding them; returns how many it skipped. */
  async skip(count: number): Promise<number> {
    let left = count;
    while (left > 0) {
      if (this.available === 0 && !(await this.#fill(1))) break;
      const step = Math.min(left, this.available);
      this.advance(step);
      left -= step;
    }
    return count - left;
  }

  /** Stops reading the stream or closes the file. */
  async close(): Promise<void> {
    if (this.#reader) await this.#reader.cancel().catch(() => {});
    else {
      try {
        this.#file?.close?.();
      } catch { /* already closed */ }
    }
  }

  async #fill(wanted: number): Promise<boolean> {
    if (this.#file) return await this.#fillFromFile(wanted);
    const chunk = this.#pending ?? await this.#read();
    this.#pending = undefined;
    if (chunk === undefined) return false;
    this.#makeRoom(wanted);
    const space = this.#buffer.length - this.#end;
    const part = chunk.length <= space ? chunk : chunk.subarray(0, space);
    this.#buffer.set(part, this.#end);
    this.#end += part.length;
    if (part.length < chunk.length) this.#pending = chunk.subarray(part.length);
    return true;
  }

  async #fillFromFile(wanted: number): Promise<boolean> {
    if (this.#eof) return false;
    this.#makeRoom(wanted);
    const count = await this.#file!.read(this.#buffer.subarray(this.#end));
    if (count === null) {
      this.#eof = true;
      return false;
    }
    this.#end += count;
    return true;
  }

  async #read(): Promise<Uint8Array | undefined> {
    while (!this.#eof) {
      const { value, done } = await this.#reader!.read();
      if (done) this.#eof = true;
      else if (value.length > 0) return value;
    }
    return undefined;
  }

  /** Moves unread bytes to the front when needed, growing only when one record needs it. */
  #makeRoom(wanted: number): void {
    const unread = this.#end - this.#start;
    if (wanted > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(wanted, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = grown;
    } else if (this.#start + wanted > this.#buffer.length || this.#end === this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      return;
    }
    this.#start = 0;
    this.#end = unread;
  }
}
