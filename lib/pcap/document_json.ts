/**
 * The JSON members of a Discovery packet that depend only on its document (variant, fields,
 * unknown, xml), written straight as bytes: the timeline writes them for every packet, or
 * once per document its decoder caches.
 */

import { type FieldSpec, type Message, SCHEMAS } from "../bcudp/mod.ts";
import { type ByteWriter, writtenBytes } from "./byte_writer.ts";

const utf8 = new TextEncoder();

const TEXT = {
  variant: utf8.encode(',"variant":"'),
  fields: utf8.encode('","fields":'),
  unknown: utf8.encode(',"unknown":'),
  xml: utf8.encode(',"xml":'),
};

/**
 * Writes the members of a Discovery packet that depend only on its document, from the comma
 * before `"variant"` to the end of `"xml"`: the timeline's decoder keeps them as bytes for a
 * document it caches (`documentJsonBytes`) and writes them straight out for the others.
 */
export function writeDocumentJson(writer: ByteWriter, message: Message, xml: string): void {
  writer.bytes(TEXT.variant);
  writer.text(message.variant);
  writer.bytes(TEXT.fields);
  writeFieldsJson(writer, message.fields, SCHEMAS[message.variant]);
  if (message.unknown) {
    writer.bytes(TEXT.unknown);
    writer.text(JSON.stringify(message.unknown.map(({ name, xml }) => ({ name, xml }))));
  }
  writer.bytes(TEXT.xml);
  writer.jsonString(xml);
}

/**
 * Writes `JSON.stringify(fieldsToJsonValue(message))` for the fields under `specs` (schema
 * order, u64/i64 as strings of digits) without building that object or string: a capture of
 * mostly unique documents writes one per packet.
 */
function writeFieldsJson(writer: ByteWriter, fields: object, specs: readonly FieldSpec[]): void {
  const values = fields as Record<string, unknown>;
  const { first, next } = memberNames(specs);
  let names = first;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    const value = values[spec.name];
    if (value === undefined) continue;
    writer.bytes(names[i]);
    names = next;
    if (typeof spec.type !== "string") writeFieldsJson(writer, value as object, spec.type);
    else if (typeof value === "string") writer.jsonString(value);
    else if (typeof value === "bigint") writer.jsonString(value.toString());
    else if (typeof value === "number" && Number.isSafeInteger(value)) writer.int(value);
    else writer.text(JSON.stringify(value));
  }
  writer.text(names === first ? "{}" : "}");
}

/** A spec list's member names as JSON bytes: `{"name":` for the first member, `,"name":` after. */
interface MemberNames {
  first: Uint8Array[];
  next: Uint8Array[];
}

const MEMBER_NAMES = new WeakMap<readonly FieldSpec[], MemberNames>();

function memberNames(specs: readonly FieldSpec[]): MemberNames {
  let names = MEMBER_NAMES.get(specs);
  if (names === undefined) {
    names = {
      first: specs.map((spec) => utf8.encode(`{${JSON.stringify(spec.name)}:`)),
      next: specs.map((spec) => utf8.encode(`,${JSON.stringify(spec.name)}:`)),
    };
    MEMBER_NAMES.set(specs, names);
  }
  return names;
}

/** What `writeDocumentJson` writes, as bytes of their own (made once per cached document). */
export function documentJsonBytes(message: Message, xml: string): Uint8Array {
  return writtenBytes((writer) => writeDocumentJson(writer, message, xml));
}
