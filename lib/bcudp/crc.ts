/**
 * The BcUdp CRC: reflected CRC-32 (polynomial 0x04C11DB7) with init 0 and no final xor,
 * i.e. zlib's crc32 seeded with 0xffffffff and xored with 0xffffffff afterwards.
 */

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC of `bytes[start, end)` in the BcUdp variant (init 0, xorout 0). */
export function bcudpCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc >>> 0;
}
