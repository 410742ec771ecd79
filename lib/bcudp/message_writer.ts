/**
 * Writing typed messages as `<P2P>` XML, driven by the schemas: strict and byte-exact (schema
 * order, no whitespace, no declaration), validating as it writes when asked.
 */

import { BcUdpError } from "./errors.ts";
import { at, fieldError, type FieldObject, isFieldObject, type Value } from "./field_values.ts";
import { checkMessageShape, checkNoUnknownKeys, validateScalar } from "./message_validation.ts";
import { type FieldSpec, isVariantName, type Message, type ScalarType, SCHEMAS } from "./schema.ts";
import { escapeText } from "./xml.ts";

function writeScalar(type: ScalarType, value: Value, parent: string, name: string): string {
  if (typeof value === "string") return escapeText(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  throw fieldError("invalid_number", at(parent, name), `cannot write a ${typeof value} as ${type}`);
}

/** The start and end tag of every element of a spec list, made once per list (speed). */
interface Tags {
  open: string[];
  /** `</name>`, or `<name/>` for an empty marker (which has no start tag). */
  close: string[];
}

const TAGS = new WeakMap<readonly FieldSpec[], Tags>();

function tagsOf(specs: readonly FieldSpec[]): Tags {
  let tags = TAGS.get(specs);
  if (tags === undefined) {
    tags = {
      open: specs.map((s) => `<${s.name}>`),
      close: specs.map((s) => s.type === "empty" ? `<${s.name}/>` : `</${s.name}>`),
    };
    TAGS.set(specs, tags);
  }
  return tags;
}

/**
 * Writes `fields` in schema order. With `check`, it validates as it writes (required
 * elements present, types and ranges right, no keys the schema lacks), so validated encoding
 * walks the schema once.
 */
function writeFields(
  fields: FieldObject,
  specs: readonly FieldSpec[],
  path: string,
  check: boolean,
): string {
  const { open, close } = tagsOf(specs);
  let out = "";
  let written = 0;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    const value = fields[spec.name];
    if (value === undefined) {
      if (check && !spec.optional) {
        throw fieldError("missing_field", path + "." + spec.name, "required element is missing");
      }
      continue;
    }
    written++;
    if (typeof spec.type === "string") {
      if (check) validateScalar(spec, spec.type, value, path);
      out += spec.type === "empty"
        ? close[i]
        : open[i] + writeScalar(spec.type, value, path, spec.name) + close[i];
    } else if (isFieldObject(value)) {
      out += open[i] + writeFields(value, spec.type, path + "." + spec.name, check) + close[i];
    } else {
      throw fieldError("missing_field", path + "." + spec.name, "expected an object of fields");
    }
  }
  if (check) checkNoUnknownKeys(fields, specs, path, written);
  return out;
}

function writeChecked(message: { variant: string; fields: unknown }, check: boolean): string {
  checkMessageShape(message);
  if (!isVariantName(message.variant)) {
    throw new BcUdpError("unknown_variant", `unknown variant ${message.variant}`, {
      variant: message.variant,
    });
  }
  const variant = message.variant;
  if (!isFieldObject(message.fields)) {
    throw fieldError("missing_field", variant, "expected an object of fields");
  }
  const body = writeFields(message.fields, SCHEMAS[variant], variant, check);
  return `<P2P><${variant}>${body}</${variant}></P2P>`;
}

/**
 * Writes a message as compact `<P2P>` XML in schema order: no declaration, no whitespace,
 * byte-for-byte the shape the cloud sends. Unknown elements are not written. No checks:
 * see `writeValidMessage`.
 */
export function writeMessage(message: Message): string {
  return writeChecked(message, false);
}

/** `validateMessage` and `writeMessage` in one walk of the schema (what encoding uses). */
export function writeValidMessage(message: { variant: string; fields: unknown }): string {
  return writeChecked(message, true);
}

/**
 * Checks a message against its schema (variant known, required fields present, types and
 * ranges right, no unknown keys); throws BcUdpError naming the field otherwise.
 */
export function validateMessage(message: { variant: string; fields: unknown }): Message {
  writeChecked(message, true);
  return message as Message;
}
