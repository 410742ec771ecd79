/**
 * A bounded read buffer over a byte stream: the capture readers pull records through it so
 * memory stays flat whatever the file size (nothing ever holds the whole file).
 */

/** Initial buffer size; it grows only to hold one record larger than this. */
export const INITIAL_BUFFER_BYTES = 1 << 20;

/**
 * Bytes a file is read ahead by, while the bytes before them are decoded: half the buffer,
 * so that a whole read fits once the decoded bytes are dropped (and the next read can start).
 */
export const READ_AHEAD_BYTES = INITIAL_BUFFER_BYTES / 2;

/** Anything that reads into a caller's buffer, like `Deno.FsFile`. */
export interface ByteReader {
  read(into: Uint8Array): Promise<number | null>;
  close?(): void;
}

/** What a ByteSource reads: a stream of chunks (stdin, fetch) or a file read ahead. */
export type ByteInput = ReadableStream<Uint8Array> | ByteReader;

/**
 * Reads a stream or a file through one reusable buffer (a file's next bytes are read into a
 * second one while the caller works on the first).
 */
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
  /** A file's read-ahead buffer and the read filling it (see `#readAhead`). */
  #ahead: Uint8Array | undefined;
  #reading: Promise<number | null | { error: unknown }> | undefined;

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
    const chunk = this.#pending ?? (this.#file ? await this.#readFile() : await this.#read());
    this.#pending = undefined;
    if (chunk === undefined) return false;
    this.#makeRoom(wanted, chunk.length);
    const space = this.#buffer.length - this.#end;
    const part = chunk.length <= space ? chunk : chunk.subarray(0, space);
    this.#buffer.set(part, this.#end);
    this.#end += part.length;
    if (part.length < chunk.length) this.#pending = chunk.subarray(part.length);
    else if (this.#file) this.#readAhead(); // the read-ahead buffer is free again
    return true;
  }

  /**
   * Starts reading the file's next bytes into the read-ahead buffer, unless a read is under
   * way or the file has ended: the read runs on Deno's I/O threads while the caller decodes
   * what it has (awaiting each read in turn left the decoding thread idle for every one).
   */
  #readAhead(): void {
    if (this.#eof || this.#reading) return;
    this.#ahead ??= new Uint8Array(READ_AHEAD_BYTES);
    // A failed read is kept, not left rejected: it is thrown when the bytes are wanted.
    this.#reading = this.#file!.read(this.#ahead).then(
      (count) => count,
      (error: unknown) => ({ error }),
    );
  }

  /** The next bytes of the file (the read-ahead's), or undefined at its end. */
  async #readFile(): Promise<Uint8Array | undefined> {
    while (!this.#eof) {
      this.#readAhead();
      const outcome = await this.#reading!;
      this.#reading = undefined;
      if (outcome === null) this.#eof = true;
      else if (typeof outcome === "object") throw outcome.error;
      else if (outcome > 0) return this.#ahead!.subarray(0, outcome);
    }
    return undefined;
  }

  async #read(): Promise<Uint8Array | undefined> {
    while (!this.#eof) {
      const { value, done } = await this.#reader!.read();
      if (done) this.#eof = true;
      else if (value.length > 0) return value;
    }
    return undefined;
  }

  /**
   * Moves unread bytes to the front when `wanted` bytes would not fit from `position` or
   * `chunk` new bytes not after them; grows only when one record needs it.
   */
  #makeRoom(wanted: number, chunk: number): void {
    const unread = this.#end - this.#start;
    if (wanted > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(wanted, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = grown;
    } else if (
      this.#start + wanted > this.#buffer.length || this.#buffer.length - this.#end < chunk
    ) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      return;
    }
    this.#start = 0;
    this.#end = unread;
  }
}
