/**
 * One field value at a time: reading integers from text, the ranges of the integer types,
 * string checks, and the field-naming errors. Shared by the parser, the writer's validation and
 * the JSON reader, so a value is judged the same way whichever way it comes in.
 */

import { BcUdpError } from "./errors.ts";
import type { FieldSpec } from "./schema.ts";

/** A field value in its typed form (a nested struct is a plain object). */
export type Value = string | number | bigint | boolean | FieldObject;
/** The fields of a message or of a nested struct, by element name. */
export type FieldObject = { [name: string]: Value | undefined };

/** The bounds of the 64-bit types, which travel as bigint. */
export const U64_MAX = (1n << 64n) - 1n;
export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

/** The range of each integer type that travels as a number. */
export const INT_RANGES: Record<string, [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  ac: [-0x80000000, 0xffffffff],
};

const textEncoder = new TextEncoder();

/** A BcUdpError naming the field at `path` (and the offending text, if any). */
export function fieldError(
  reason: "out_of_range" | "invalid_number" | "unknown_field_value" | "missing_field",
  path: string,
  message: string,
  value?: string,
): BcUdpError {
  return new BcUdpError(reason, `field ${path}: ${message}`, { field: path, value });
}

const DIGITS = /^-?[0-9]{1,25}$/;

/** The path of field `name` under `parent`, for messages (built only when throwing). */
export function at(parent: string, name: string): string {
  return `${parent}.${name}`;
}

/** Reads a u64/i64 from text, within `min`..`max`; throws naming the field otherwise. */
export function parseBigInt(
  text: string,
  parent: string,
  name: string,
  min: bigint,
  max: bigint,
): bigint {
  const short = shortInteger(text);
  if (short === undefined && !DIGITS.test(text)) {
    throw fieldError("invalid_number", at(parent, name), `"${text}" is not an integer`);
  }
  // BigInt of a small number is cheaper than BigInt of its text (a token is usually short).
  const value = short === undefined ? BigInt(text) : BigInt(short);
  if (value < min || value > max) {
    throw fieldError("out_of_range", at(parent, name), `${text} is outside ${min}..${max}`, text);
  }
  return value;
}

/** Reads up to 10 decimal digits with an optional minus sign; undefined for anything else. */
function shortInteger(text: string): number | undefined {
  const negative = text.charCodeAt(0) === 0x2d;
  const first = negative ? 1 : 0;
  if (text.length === first || text.length - first > 10) return undefined;
  let value = 0;
  for (let i = first; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return negative ? 0 - value : value; // 0 - 0 is 0, not -0
}

/** Reads an integer of `type` (u8..i32, ac) from text; throws naming the field otherwise. */
export function parseInt32ish(text: string, type: string, parent: string, name: string): number {
  let value = shortInteger(text);
  if (value === undefined) {
    if (!DIGITS.test(text)) {
      throw fieldError("invalid_number", at(parent, name), `"${text}" is not an integer`);
    }
    value = Number(text) + 0; // "+ 0" turns "-0" into 0
  }
  checkIntRange(value, type, parent, name, text);
  return value;
}

/**
 * Throws `out_of_range` unless `value` is within the range of the integer `type`; the error
 * quotes `text` (what was read), or the value itself.
 */
export function checkIntRange(
  value: number,
  type: string,
  parent: string,
  name: string,
  text?: string,
): void {
  const range = INT_RANGES[type];
  const min = range[0];
  const max = range[1];
  if (value < min || value > max) {
    const shown = text ?? `${value}`;
    throw fieldError(
      "out_of_range",
      at(parent, name),
      `${shown} is outside ${min}..${max} (${type})`,
      shown,
    );
  }
}

/**
 * Throws unless `text` is one of the spec's allowed values and fits its byte limit (the
 * UTF-8 length is counted only when the text could be too long).
 */
export function checkString(text: string, spec: FieldSpec, parent: string): void {
  const name = spec.name;
  if (spec.values && !spec.values.includes(text)) {
    throw fieldError(
      "unknown_field_value",
      at(parent, name),
      `"${text}" is not one of ${spec.values.join(", ")}`,
      text,
    );
  }
  if (spec.maxBytes !== undefined && text.length > spec.maxBytes / 3) {
    const bytes = textEncoder.encode(text).length;
    if (bytes > spec.maxBytes) {
      throw fieldError(
        "out_of_range",
        at(parent, name),
        `${bytes} bytes is longer than ${spec.maxBytes}`,
      );
    }
  }
}

/** The spec called `name` (a loop: this runs for every element of every packet). */
export function specNamed(specs: readonly FieldSpec[], name: string): FieldSpec | undefined {
  for (let i = 0; i < specs.length; i++) if (specs[i].name === name) return specs[i];
  return undefined;
}

/** Whether `value` is a plain object of fields (not null, not an array). */
export function isFieldObject(value: unknown): value is FieldObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
