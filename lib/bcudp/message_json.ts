/**
 * Messages as JSON-safe data and back (`decode --json`, `encode` from JSON): u64/i64 travel as
 * strings of digits, since JSON numbers cannot hold them.
 */

import { BcUdpError } from "./errors.ts";
import {
  fieldError,
  type FieldObject,
  I64_MIN,
  INT_RANGES,
  parseBigInt,
  parseInt32ish,
  specNamed,
  U64_MAX,
  type Value,
} from "./field_values.ts";
import { checkMessageShape } from "./message_validation.ts";
import { validateMessage } from "./message_writer.ts";
import { type FieldSpec, isVariantName, type Message, SCHEMAS } from "./schema.ts";

/** A JSON-safe field value: u64/i64 become strings of digits. */
export type JsonValue = string | number | boolean | { [name: string]: JsonValue };

function fieldsToJson(fields: FieldObject, specs: readonly FieldSpec[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const spec of specs) {
    const value = fields[spec.name];
    if (value === undefined) continue;
    if (typeof spec.type !== "string") {
      out[spec.name] = fieldsToJson(value as FieldObject, spec.type);
    } else out[spec.name] = typeof value === "bigint" ? value.toString() : value as JsonValue;
  }
  return out;
}

/** The fields of a message as JSON-safe data (u64 as strings of digits), in schema order. */
export function fieldsToJsonValue(message: Message): Record<string, JsonValue> {
  return fieldsToJson(message.fields as FieldObject, SCHEMAS[message.variant]);
}

function fieldsFromJson(data: unknown, specs: readonly FieldSpec[], path: string): FieldObject {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw fieldError("missing_field", path, "expected an object of fields");
  }
  const record = data as Record<string, unknown>;
  const out: FieldObject = {};
  for (const [name, value] of Object.entries(record)) {
    const spec = specNamed(specs, name);
    const childPath = path + "." + name;
    if (spec === undefined) {
      throw fieldError("unknown_field_value", childPath, "no such element in the schema");
    }
    if (typeof spec.type !== "string") out[name] = fieldsFromJson(value, spec.type, childPath);
    else if ((spec.type === "u64" || spec.type === "i64") && typeof value !== "bigint") {
      const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== "string") {
        throw fieldError("invalid_number", childPath, "expected a string of digits");
      }
      out[name] = parseBigInt(text, path, name, I64_MIN, U64_MAX);
    } else if (typeof value === "string" && spec.type in INT_RANGES) {
      out[name] = parseInt32ish(value, spec.type, path, name);
    } else {
      out[name] = value as Value;
    }
  }
  return out;
}

/**
 * Builds a message from JSON data shaped like `decode --json` output
 * (`{variant, fields}`, u64 as strings of digits) and validates it against the schema.
 */
export function messageFromJson(data: { variant: string; fields: unknown }): Message {
  checkMessageShape(data);
  if (!isVariantName(data.variant)) {
    throw new BcUdpError("unknown_variant", `unknown variant ${data.variant}`, {
      variant: data.variant,
    });
  }
  const fields = fieldsFromJson(data.fields ?? {}, SCHEMAS[data.variant], data.variant);
  return validateMessage({ variant: data.variant, fields });
}
