/**
 * Reading the input of `decode` / `encode`: text given on the command line, a file
 * (`--file PATH`) or stdin (`-`), and turning hex text into datagrams.
 */

import { CliExit, EXIT, usageError } from "./exit_codes.ts";

/** Largest input read from a file or stdin (bytes); more is refused rather than buffered. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** Where the input came from and its bytes. */
export interface Input {
  bytes: Uint8Array;
  /** `argument`, `stdin` or the file path, for messages. */
  source: string;
}

async function readLimited(stream: ReadableStream<Uint8Array>, source: string) {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > MAX_INPUT_BYTES) {
      throw new CliExit(EXIT.USAGE, `${source} is larger than ${MAX_INPUT_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * The error for an input file that cannot be opened, worded the same and with the same exit
 * code (2, a bad argument) in every subcommand; `permissionHint` adds a remedy.
 */
export function unreadableInput(path: string, error: unknown, permissionHint = ""): CliExit {
  const reason = error instanceof Deno.errors.NotFound
    ? "no such file"
    : error instanceof Deno.errors.PermissionDenied
    ? `permission denied${permissionHint}`
    : error instanceof Error
    ? error.message
    : String(error);
  return new CliExit(EXIT.USAGE, `cannot read ${path}: ${reason}`);
}

async function readFile(path: string): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    throw unreadableInput(path, error);
  }
  return await readLimited(file.readable, path);
}

/**
 * The input of a command: the words on the command line (joined by spaces), `-` for stdin,
 * or `--file PATH`. No input at all, or an empty one, is a usage error (exit 2).
 */
export async function readInput(words: string[], file: string | undefined): Promise<Input> {
  if (file !== undefined && words.length > 0) {
    throw usageError("give the input either as arguments or with --file, not both");
  }
  let input: Input;
  if (file !== undefined) input = { bytes: await readFile(file), source: file };
  else if (words.length === 1 && words[0] === "-") {
    input = { bytes: await readLimited(Deno.stdin.readable, "stdin"), source: "stdin" };
  } else if (words.length > 0) {
    input = { bytes: new TextEncoder().encode(words.join(" ")), source: "argument" };
  } else {
    throw usageError("no input: give it as an argument, with --file PATH, or - for stdin");
  }
  if (input.bytes.every(isSpaceByte)) {
    throw new CliExit(EXIT.USAGE, `empty input (${input.source})`);
  }
  return input;
}

function isSpaceByte(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * True when `bytes` look like text (printable ASCII, tabs and newlines only). Raw BcUdp
 * packets never do: every magic number contains the bytes 0xcf 0x87.
 */
export function isText(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if ((byte < 0x20 && !isSpaceByte(byte)) || byte > 0x7e) return false;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Parses hex text into datagrams, one per non-empty line. Spaces, tabs and colons between
 * digits are ignored, a `0x` may start each group, and `#` starts a comment. Bad text is a
 * failure (exit 1) naming the line and column.
 */
export function parseHexLines(text: string): Uint8Array[] {
  const datagrams: Uint8Array[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const nibbles: number[] = [];
    let groupStart = true;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x23) break; // '#': comment to the end of the line
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x3a) {
        groupStart = true;
        continue;
      }
      if (groupStart && c === 0x30 && (line.charCodeAt(i + 1) | 0x20) === 0x78) {
        i++; // "0x" prefix
        groupStart = false;
        continue;
      }
      groupStart = false;
      const value = hexValue(c);
      if (value < 0) {
        throw new CliExit(
          EXIT.FAILURE,
          `bad hex on line ${n + 1}, column ${i + 1}: ${
            JSON.stringify(line[i])
          } is not a hex digit`,
        );
      }
      nibbles.push(value);
    }
    if (nibbles.length === 0) continue;
    if (nibbles.length % 2 !== 0) {
      throw new CliExit(
        EXIT.FAILURE,
        `bad hex on line ${n + 1}: odd number of hex digits (${nibbles.length})`,
      );
    }
    const bytes = new Uint8Array(nibbles.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = nibbles[2 * i] << 4 | nibbles[2 * i + 1];
    datagrams.push(bytes);
  }
  return datagrams;
}
