/** Hex text of numbers and bytes, for messages, displays and JSON. */

/** Formats a u32 as 0x-prefixed, 8-digit hex. */
export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}

/** Lowercase hex of `bytes`, without separators. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}
