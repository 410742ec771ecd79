/**
 * fast-check generators for BcUdp messages, derived from the SCHEMAS table itself so every
 * variant (and any variant added later) is covered with valid field values.
 */

import fc from "fast-check";
import {
  type FieldSpec,
  type Message,
  type ScalarType,
  SCHEMAS,
  VARIANT_NAMES,
  type VariantName,
} from "../../lib/bcudp/mod.ts";

const utf8Length = (text: string) => new TextEncoder().encode(text).length;
const isXmlSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r";

/** Text that survives the round-trip: no surrounding whitespace (the reader trims it). */
const text = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom("<", ">", "&", ";", "'", '"'),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    ),
    maxLength: 24,
  })
  .filter((s) => s === "" || (!isXmlSpace(s[0]) && !isXmlSpace(s[s.length - 1])));

const SCALARS: Record<Exclude<ScalarType, "str">, fc.Arbitrary<unknown>> = {
  u8: fc.integer({ min: 0, max: 0xff }),
  u16: fc.integer({ min: 0, max: 0xffff }),
  u32: fc.integer({ min: 0, max: 0xffffffff }),
  i32: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  i64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  debug: fc.oneof(
    fc.boolean(),
    fc.constantFrom(0, 1, 251658240),
    fc.integer({ min: 0, max: 0xffffffff }),
  ),
  ac: fc.integer({ min: -0x80000000, max: 0xffffffff }),
  empty: fc.constant(true),
};

function fieldArbitrary(spec: FieldSpec): fc.Arbitrary<unknown> {
  if (typeof spec.type !== "string") return fieldsArbitrary(spec.type);
  if (spec.type !== "str") return SCALARS[spec.type];
  if (spec.values) return fc.constantFrom(...spec.values);
  const max = spec.maxBytes;
  return max === undefined ? text : text.filter((s) => utf8Length(s) <= max);
}

/** Valid fields for a list of specs: required keys always, optional keys sometimes. */
export function fieldsArbitrary(
  specs: readonly FieldSpec[],
): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const spec of specs) model[spec.name] = fieldArbitrary(spec);
  const requiredKeys = specs.filter((s) => !s.optional).map((s) => s.name);
  // Plain objects (not null-prototype ones), like the decoder builds.
  return fc.record(model, { requiredKeys }).map((fields) => ({ ...fields }));
}

/** A valid message of variant `variant`. */
export function messageOf(variant: VariantName): fc.Arbitrary<Message> {
  return fieldsArbitrary(SCHEMAS[variant]).map((fields) => ({ variant, fields }) as Message);
}

/** A valid message of any variant. */
export const anyMessage: fc.Arbitrary<Message> = fc.constantFrom(...VARIANT_NAMES).chain(messageOf);

/** Any u32 tid, biased towards the edges and the first keystream wrap-around (0x5A390828). */
export const anyTid: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0x5a390828 - 4, max: 0x5a390828 + 4 }),
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
);

/** The parts back to back in one array (several packets in one datagram). */
export { concatBytes } from "../../lib/pcap/mod.ts";
