/**
 * Streaming readers for pcap (both byte orders, micro- and nanosecond timestamps) and pcapng
 * (SHB, IDB, EPB, SPB and the obsolete PB; several interfaces, several sections, either byte
 * order). Frames are handed to a callback one at a time; damage is reported as issues with
 * the file offset where it was found, and reading goes on wherever the format allows.
 */

import type { ByteSource } from "./byte_source.ts";

/** The largest record (pcap) or block (pcapng) held in memory; bigger ones are skipped. */
export const MAX_RECORD_BYTES = 16 << 20;

/** One captured frame. `data` is only valid during the callback that receives it. */
export interface Frame {
  /** 1-based frame number, as Wireshark counts. */
  index: number;
  /** File offset of the record or block holding the frame. */
  offset: number;
  interfaceId: number;
  linkType: number;
  /** Capture time: whole seconds since the epoch and nanoseconds within the second. */
  seconds: number;
  nanos: number;
  data: Uint8Array;
  /** Length of the packet on the wire (more than `data.length` when cut by the snap length). */
  originalLength: number;
}

/** Why part of a capture could not be read. */
export type CaptureIssueReason =
  | "truncated_file"
  | "corrupt_record"
  | "record_too_large"
  | "unknown_interface"
  | "unknown_link_type"
  | "snap_length_cut"
  | "ip_fragment"
  | "malformed_packet";

/** A problem found while reading, with the file offset of the record it concerns. */
export interface CaptureIssue {
  reason: CaptureIssueReason;
  offset: number;
  /** Frame number when the issue concerns one frame. */
  frame?: number;
  message: string;
}

/** What the reader learnt about the file. */
export interface CaptureInfo {
  format: "pcap" | "pcapng";
  byteOrder: "little" | "big";
  /** pcap: "micro" or "nano"; pcapng: per interface, see `interfaces`. */
  resolution?: "micro" | "nano";
  interfaces: { linkType: number; snapLength: number; unitsPerSecond: number }[];
  frames: number;
  /** pcapng blocks of types this reader does not use (skipped). */
  skippedBlocks: number;
  bytesRead: number;
}

/** Receives frames and issues in file order. */
export interface CaptureVisitor {
  frame(frame: Frame): void;
  issue(issue: CaptureIssue): void;
}

/** The input is not a capture at all (no pcap or pcapng magic). */
export class CaptureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaptureFormatError";
  }
}

const PCAP_MICRO = 0xa1b2c3d4;
const PCAP_NANO = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;

/**
 * Reads a whole capture from `source`, calling `visitor` for every frame and issue.
 * Throws CaptureFormatError when the input is neither pcap nor pcapng.
 */
export async function readCapture(
  source: ByteSource,
  visitor: CaptureVisitor,
): Promise<CaptureInfo> {
  if (!(await source.ensure(4))) {
    throw new CaptureFormatError(
      source.available === 0 ? "the capture is empty" : "the capture is shorter than its magic",
    );
  }
  const view = viewOf(source, 4);
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  if (magicLe === PCAPNG_SHB) return await readPcapng(source, visitor);
  for (const [magic, littleEndian] of [[magicLe, true], [magicBe, false]] as const) {
    if (magic === PCAP_MICRO || magic === PCAP_NANO) {
      return await readPcap(source, visitor, littleEndian, magic === PCAP_NANO);
    }
  }
  throw new CaptureFormatError(
    `not a pcap or pcapng capture (first bytes 0x${magicBe.toString(16).padStart(8, "0")})`,
  );
}

function viewOf(source: ByteSource, length: number): DataView {
  const bytes = source.bytes;
  return new DataView(bytes.buffer, bytes.byteOffset + source.position, length);
}

/** u32 at `at` in either byte order (a DataView per record costs more than this). */
function u32(bytes: Uint8Array, at: number, littleEndian: boolean): number {
  return littleEndian
    ? (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0
    : (bytes[at] << 24 | bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3]) >>> 0;
}

function truncated(source: ByteSource, offset: number, what: string, need: number): CaptureIssue {
  return {
    reason: "truncated_file",
    offset,
    message: `the file ends inside ${what} at offset ${offset}: ${need} bytes needed, ` +
      `${source.available} present`,
  };
}

async function readPcap(
  source: ByteSource,
  visitor: CaptureVisitor,
  littleEndian: boolean,
  nano: boolean,
): Promise<CaptureInfo> {
  const info: CaptureInfo = {
    format: "pcap",
    byteOrder: littleEndian ? "little" : "big",
    resolution: nano ? "nano" : "micro",
    interfaces: [],
    frames: 0,
    skippedBlocks: 0,
    bytesRead: 0,
  };
  if (!(await source.ensure(24))) {
    visitor.issue(truncated(source, 0, "the pcap file header", 24));
    info.bytesRead = source.offset + source.available;
    return info;
  }
  const header = viewOf(source, 24);
  const snapLength = header.getUint32(16, littleEndian);
  const linkType = header.getUint32(20, littleEndian) & 0xffff;
  info.interfaces.push({ linkType, snapLength, unitsPerSecond: nano ? 1e9 : 1e6 });
  source.advance(24);
  const nanoFactor = nano ? 1 : 1000;
  const maxIncluded = Math.max(snapLength, 262144);
  while (true) {
    const offset = source.offset;
    // Awaiting only when the buffer runs dry: an await per record costs promises (garbage
    // the collector must clear) for nothing while the data is already there.
    if (source.available < 16 && !(await source.ensure(16))) {
      if (source.available > 0) visitor.issue(truncated(source, offset, "a record header", 16));
      break;
    }
    const bytes = source.bytes;
    const at = source.position;
    const seconds = u32(bytes, at, littleEndian);
    const fraction = u32(bytes, at + 4, littleEndian);
    const included = u32(bytes, at + 8, littleEndian);
    const original = u32(bytes, at + 12, littleEndian);
    if (included > maxIncluded || included > MAX_RECORD_BYTES) {
      visitor.issue({
        reason: "corrupt_record",
        offset,
        message: `record at offset ${offset} claims ${included} captured bytes (snap length ` +
          `${snapLength}): the file is damaged here, reading stops`,
      });
      break;
    }
    source.advance(16);
    if (source.available < included && !(await source.ensure(included))) {
      visitor.issue(truncated(source, offset, "a record", included));
      break;
    }
    info.frames++;
    visitor.frame({
      index: info.frames,
      offset,
      interfaceId: 0,
      linkType,
      seconds,
      nanos: fraction * nanoFactor,
      data: source.bytes.subarray(source.position, source.position + included),
      originalLength: Math.max(original, included),
    });
    source.advance(included);
  }
  info.bytesRead = source.offset + source.available;
  return info;
}

interface Interface {
  linkType: number;
  snapLength: number;
  unitsPerSecond: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSeconds: number;
}

interface PcapngState {
  littleEndian: boolean;
  interfaces: Interface[];
  /** Time of the last timestamped packet (simple packet blocks carry none). */
  lastSeconds: number;
  lastNanos: number;
}

async function readPcapng(source: ByteSource, visitor: CaptureVisitor): Promise<CaptureInfo> {
  const info: CaptureInfo = {
    format: "pcapng",
    byteOrder: "little",
    interfaces: [],
    frames: 0,
    skippedBlocks: 0,
    bytesRead: 0,
  };
  const state: PcapngState = { littleEndian: true, interfaces: [], lastSeconds: 0, lastNanos: 0 };
  let sections = 0;
  while (true) {
    const offset = source.offset;
    // As for pcap records: await only when the buffer runs dry.
    if (source.available < 12 && !(await source.ensure(12))) {
      if (source.available > 0) visitor.issue(truncated(source, offset, "a block header", 12));
      break;
    }
    let head = viewOf(source, 12);
    const type = head.getUint32(0, state.littleEndian);
    if (type === PCAPNG_SHB) {
      const order = head.getUint32(8, true);
      if (order === PCAPNG_BYTE_ORDER_MAGIC) state.littleEndian = true;
      else if (order === 0x4d3c2b1a) state.littleEndian = false;
      else {
        visitor.issue({
          reason: "corrupt_record",
          offset,
          message: `section header at offset ${offset} has a bad byte-order magic: reading stops`,
        });
        break;
      }
      if (sections === 0) info.byteOrder = state.littleEndian ? "little" : "big";
      sections++;
      state.interfaces = [];
      head = viewOf(source, 12);
    }
    const length = head.getUint32(4, state.littleEndian);
    if (length < 12 || length % 4 !== 0) {
      visitor.issue({
        reason: "corrupt_record",
        offset,
        message: `block at offset ${offset} has an impossible length ${length}: reading stops`,
      });
      break;
    }
    if (length > MAX_RECORD_BYTES) {
      visitor.issue({
        reason: "record_too_large",
        offset,
        message:
          `block at offset ${offset} is ${length} bytes, over the ${MAX_RECORD_BYTES}-byte ` +
          "limit: skipped",
      });
      if ((await source.skip(length)) < length) {
        visitor.issue(truncated(source, offset, "a block", length));
        break;
      }
      continue;
    }
    if (source.available < length && !(await source.ensure(length))) {
      visitor.issue(truncated(source, offset, "a block", length));
      break;
    }
    const block = viewOf(source, length);
    const body = source.bytes.subarray(source.position, source.position + length);
    if (type === BLOCK_IDB) {
      const entry = readInterface(block, body, state.littleEndian);
      state.interfaces.push(entry);
      info.interfaces.push(entry);
    } else if (type === BLOCK_EPB || type === BLOCK_PB || type === BLOCK_SPB) {
      const frame = packetBlock(type, block, body, offset, state, info.frames + 1, visitor);
      if (frame) {
        info.frames++;
        visitor.frame(frame);
      }
    } else if (type !== PCAPNG_SHB) {
      info.skippedBlocks++;
    }
    source.advance(length);
  }
  info.bytesRead = source.offset + source.available;
  return info;
}

function readInterface(block: DataView, body: Uint8Array, le: boolean): Interface {
  const entry: Interface = {
    linkType: block.getUint16(8, le),
    snapLength: block.getUint32(12, le),
    unitsPerSecond: 1e6,
    offsetSeconds: 0,
  };
  for (const option of options(block, body, 16, le)) {
    if (option.code === OPTION_IF_TSRESOL && option.length >= 1) {
      const value = body[option.start];
      const exponent = value & 0x7f;
      entry.unitsPerSecond = value & 0x80 ? 2 ** exponent : 10 ** exponent;
    } else if (option.code === OPTION_IF_TSOFFSET && option.length >= 8) {
      entry.offsetSeconds = Number(block.getBigInt64(option.start, le));
    }
  }
  return entry;
}

/** Walks the options of a block from `start` to its trailing length field. */
function* options(block: DataView, body: Uint8Array, start: number, le: boolean) {
  const end = body.length - 4;
  let at = start;
  while (at + 4 <= end) {
    const code = block.getUint16(at, le);
    const length = block.getUint16(at + 2, le);
    if (code === OPTION_END || at + 4 + length > end) return;
    yield { code, start: at + 4, length };
    at += 4 + ((length + 3) & ~3);
  }
}

function packetBlock(
  type: number,
  block: DataView,
  body: Uint8Array,
  offset: number,
  state: PcapngState,
  index: number,
  visitor: CaptureVisitor,
): Frame | undefined {
  const le = state.littleEndian;
  const simple = type === BLOCK_SPB;
  const interfaceId = simple
    ? 0
    : type === BLOCK_PB
    ? block.getUint16(8, le)
    : block.getUint32(8, le);
  const headerEnd = simple ? 12 : 28;
  if (body.length < headerEnd + 4) {
    visitor.issue({
      reason: "corrupt_record",
      offset,
      frame: index,
      message: `packet block at offset ${offset} is too short (${body.length} bytes): skipped`,
    });
    return undefined;
  }
  const iface = state.interfaces[interfaceId];
  if (iface === undefined) {
    visitor.issue({
      reason: "unknown_interface",
      offset,
      frame: index,
      message: `packet block at offset ${offset} names interface ${interfaceId}, which no ` +
        "interface description block declared: skipped",
    });
    return undefined;
  }
  const room = body.length - 4 - headerEnd;
  let captured: number;
  let original: number;
  if (simple) {
    original = block.getUint32(8, le);
    captured = Math.min(original, room, iface.snapLength || room);
  } else {
    captured = block.getUint32(20, le);
    original = block.getUint32(24, le);
    if (captured > room) {
      visitor.issue({
        reason: "corrupt_record",
        offset,
        frame: index,
        message: `packet block at offset ${offset} claims ${captured} captured bytes but holds ` +
          `${room}: skipped`,
      });
      return undefined;
    }
    const units = block.getUint32(12, le) * 2 ** 32 + block.getUint32(16, le);
    [state.lastSeconds, state.lastNanos] = unitsToTime(
      units,
      block.getUint32(12, le),
      block.getUint32(16, le),
      iface.unitsPerSecond,
    );
    state.lastSeconds += iface.offsetSeconds;
  }
  return {
    index,
    offset,
    interfaceId,
    linkType: iface.linkType,
    seconds: state.lastSeconds,
    nanos: state.lastNanos,
    data: body.subarray(headerEnd, headerEnd + captured),
    originalLength: Math.max(original, captured),
  };
}

/** Converts a 64-bit count of `perSecond` units to [seconds, nanoseconds]. */
function unitsToTime(
  units: number,
  high: number,
  low: number,
  perSecond: number,
): [number, number] {
  if (units <= Number.MAX_SAFE_INTEGER && Number.isInteger(perSecond)) {
    const seconds = Math.floor(units / perSecond);
    return [seconds, Math.round((units - seconds * perSecond) * 1e9 / perSecond)];
  }
  const big = (BigInt(high) << 32n) | BigInt(low);
  const per = BigInt(Math.round(perSecond));
  return [Number(big / per), Number((big % per) * 1_000_000_000n / per)];
}
