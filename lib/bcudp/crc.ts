/**
 * The BcUdp CRC: reflected CRC-32 (polynomial 0x04C11DB7) with init 0 and no final xor,
 * i.e. zlib's crc32 seeded with 0xffffffff and xored with 0xffffffff afterwards.
 * Computed eight bytes at a time ("slicing-by-8") because every packet goes through it.
 */

/** Eight 256-entry tables back to back: table k advances the CRC over k more zero bytes. */
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) {
      const previous = tables[(t - 1) * 256 + n];
      tables[t * 256 + n] = (previous >>> 8) ^ tables[previous & 0xff];
    }
  }
  return tables;
}

/** CRC of `bytes[start, end)` in the BcUdp variant (init 0, xorout 0). */
export function bcudpCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let crc = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    crc ^= bytes[i] | bytes[i + 1] << 8 | bytes[i + 2] << 16 | bytes[i + 3] << 24;
    crc = t[1792 + (crc & 0xff)] ^ t[1536 + ((crc >>> 8) & 0xff)] ^
      t[1280 + ((crc >>> 16) & 0xff)] ^ t[1024 + (crc >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < end; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc >>> 0;
}

/**
 * Advances a BcUdp CRC over four bytes given as a little-endian word (`b0 | b1 << 8 | ...`),
 * for loops that compute the CRC while doing something else with the same bytes.
 */
export function bcudpCrcWord(crc: number, word: number): number {
  const t = TABLES;
  const c = crc ^ word;
  return (t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^
    t[c >>> 24]) >>> 0;
}

/** Advances a BcUdp CRC over one byte (see `bcudpCrcWord`). */
export function bcudpCrcByte(crc: number, byte: number): number {
  return (TABLES[(crc ^ byte) & 0xff] ^ (crc >>> 8)) >>> 0;
}
